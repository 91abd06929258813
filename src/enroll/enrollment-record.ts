// The enrollment record in the state directory (<stateDirectory>/enrollment.json): written after a
// successful enrollment, read at start so that a restart makes no control-plane call at all.
// Losing it costs one data-plane look; a corrupt or foreign record is ignored, never an error.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { EnrollmentRecord } from './decide-enrollment.js';

export const ENROLLMENT_RECORD_FILE = 'enrollment.json';

export function enrollmentRecordPath(stateDirectory: string): string {
  return join(stateDirectory, ENROLLMENT_RECORD_FILE);
}

function isRecord(value: unknown): value is EnrollmentRecord {
  const r = value as Partial<EnrollmentRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.key === 'string' &&
    typeof r.verifiedAt === 'number' &&
    typeof r.reverifyAt === 'number' &&
    (r.via === 'associated' || r.via === 'already-associated' || r.via === 'has-execution')
  );
}

/** The record, or undefined when there is none or it cannot be read as one. */
export async function readEnrollmentRecord(stateDirectory: string): Promise<EnrollmentRecord | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(enrollmentRecordPath(stateDirectory), 'utf8'));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function writeEnrollmentRecord(stateDirectory: string, record: EnrollmentRecord): Promise<void> {
  await mkdir(stateDirectory, { recursive: true });
  // No fsync: losing the record to a power cut only costs one data-plane look at the next start.
  await writeFileAtomic(enrollmentRecordPath(stateDirectory), `${JSON.stringify(record)}\n`, {
    fsync: false,
  });
}
