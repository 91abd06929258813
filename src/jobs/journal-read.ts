// Reading the journal (what `ggjobs status`, `ggjobs doctor` and the listener's recovery see), with
// no side effects. The journal of one job is an append-only log of JSON lines,
//   <stateDirectory>/executions/<thingName>/<namespaceId>/<jobId>/journal.log
// each line the whole record of one execution after a change; the last line of an execution wins.
// Blank lines are skipped (the log ends in reserved space: newlines the next records overwrite).
// Journals written before the log (format 1: one `<executionNumber>.json` file per execution) are
// read too, and folded into the log by the next start (journal.ts).
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { JournalError } from '../errors.js';
import type { ExecutionRecord } from './execution.js';
import type { JobIds } from './topics.js';

/** Format of a log line; 1 was the file-per-execution layout. */
export const JOURNAL_FORMAT = 2;
export const LOG_FILE_NAME = 'journal.log';

const stepSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  resumable: z.boolean(),
  startedAt: z.string(),
});

export const journalFileSchema = z.object({
  format: z.union([z.literal(1), z.literal(JOURNAL_FORMAT)]),
  thingName: z.string(),
  jobId: z.string(),
  namespaceId: z.string(),
  updatedAt: z.string(),
  executionNumber: z.number().int().nonnegative(),
  phase: z.enum(['claiming', 'started', 'finished', 'reported', 'dropped', 'cancelled', 'lost']),
  versionNumber: z.number().int().nonnegative().optional(),
  claimId: z.string().optional(),
  claimedAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  closedAt: z.string().optional(),
  lastStep: stepSchema.optional(),
  resumedFromStep: z.number().int().nonnegative().optional(),
  outcome: z
    .object({
      status: z.enum(['SUCCEEDED', 'FAILED', 'REJECTED']),
      statusDetails: z.record(z.string(), z.string()),
    })
    .optional(),
  sendAttempts: z.number().int().nonnegative().optional(),
  note: z.string().optional(),
  detailsReduced: z.boolean().optional(),
});
export type JournalFile = z.infer<typeof journalFileSchema>;

export interface JournalProblem {
  /** The file, with `:LINE` for a line of the log. */
  file: string;
  problem: string;
}

export const CLOSED_PHASES: ReadonlySet<string> = new Set(['reported', 'dropped', 'cancelled', 'lost']);

export function journalDirectory(stateDirectory: string, ids: JobIds): string {
  // Thing names may hold ':', which some file systems do not allow in a name.
  const thing = ids.thingName.replace(/:/g, '%3A');
  return join(resolve(stateDirectory), 'executions', thing, ids.namespaceId, ids.jobId);
}

export function journalLogFile(stateDirectory: string, ids: JobIds): string {
  return join(journalDirectory(stateDirectory, ids), LOG_FILE_NAME);
}

export interface JournalContents {
  records: JournalFile[];
  problems: JournalProblem[];
  /** The legacy `<n>.json` files that were read (or found unreadable). */
  legacyFiles: string[];
  /** Lines of the log, including unreadable ones (what compaction shrinks). */
  logLines: number;
}

/** Checks one record; a reason when it is not a record of this thing's job. */
function checkRecord(json: unknown, ids: JobIds): { record: JournalFile } | { problem: string } {
  const res = journalFileSchema.safeParse(json);
  if (!res.success) {
    const issue = res.error.issues[0];
    return { problem: `unexpected content at ${issue?.path.join('.') || '(root)'}: ${issue?.message}` };
  }
  if (res.data.thingName !== ids.thingName || res.data.jobId !== ids.jobId) {
    return { problem: `belongs to thing ${res.data.thingName}, execution ${res.data.executionNumber}` };
  }
  return { record: res.data };
}

/** Reads every record of this job; unreadable records are returned as problems (nothing is changed). */
export async function readJournalContents(stateDirectory: string, ids: JobIds): Promise<JournalContents> {
  const dir = journalDirectory(stateDirectory, ids);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { records: [], problems: [], legacyFiles: [], logLines: 0 };
    }
    throw new JournalError(`cannot read the journal directory ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const latest = new Map<number, JournalFile>();
  const problems: JournalProblem[] = [];
  const legacyFiles: string[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue; // temp files of an interrupted write, moved-aside files
    const file = join(dir, name);
    legacyFiles.push(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push({ file, problem: `unreadable: ${(err as Error).message}` });
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      problems.push({ file, problem: `not JSON (${text.length} bytes)` });
      continue;
    }
    const checked = checkRecord(json, ids);
    if ('problem' in checked) problems.push({ file, problem: checked.problem });
    else if (`${checked.record.executionNumber}.json` !== name) {
      problems.push({ file, problem: `holds execution ${checked.record.executionNumber}` });
    } else latest.set(checked.record.executionNumber, checked.record);
  }
  // The log is newer than any legacy file: its records win.
  const logFile = join(dir, LOG_FILE_NAME);
  let logLines = 0;
  let text = '';
  try {
    text = await readFile(logFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      problems.push({ file: logFile, problem: `unreadable: ${(err as Error).message}` });
    }
  }
  const lines = text.split('\n');
  // A write cut short by a crash is the last line that holds anything (the log may end in blank
  // lines: the space the journal reserves ahead of its records, see journal-log.ts).
  let tornTail = lines.length - 1;
  while (tornTail >= 0 && lines[tornTail] === '') tornTail--;
  lines.forEach((line, i) => {
    if (line === '') return;
    logLines += 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      if (i !== tornTail)
        problems.push({ file: `${logFile}:${i + 1}`, problem: `not JSON (${line.length} bytes)` });
      return;
    }
    const checked = checkRecord(json, ids);
    if ('problem' in checked) problems.push({ file: `${logFile}:${i + 1}`, problem: checked.problem });
    else latest.set(checked.record.executionNumber, checked.record);
  });
  const records = [...latest.values()].sort((a, b) => a.executionNumber - b.executionNumber);
  return { records, problems, legacyFiles, logLines };
}

/** Every record of this job and what could not be read (for `ggjobs status`). */
export async function readJournal(
  stateDirectory: string,
  ids: JobIds,
): Promise<{ records: JournalFile[]; problems: JournalProblem[] }> {
  const { records, problems } = await readJournalContents(stateDirectory, ids);
  return { records, problems };
}

export function toExecutionRecord(file: JournalFile): ExecutionRecord {
  const { format: _f, thingName: _t, jobId: _j, namespaceId: _n, updatedAt: _u, ...record } = file;
  return record;
}
