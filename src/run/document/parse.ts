// Turns whatever arrived as a job document into a JobPlan, or into the reason it is REJECTED. Pure: no
// I/O, and it never throws (network input must not crash the agent), so every path ends in a result.
import type { z } from 'zod';
import {
  documentSchema,
  type JobPlan,
  legacyDocumentSchema,
  MAX_DOCUMENT_BYTES,
  type PlannedStep,
  REBOOT_HANDLER,
} from './schema.js';

export type ParsedJobDocument = { ok: true; plan: JobPlan } | { ok: false; reason: string };

const PREFIX = 'invalid job document: ';
/** Issues listed in a reason; the rest are counted. */
const MAX_ISSUES = 3;

/** Accepts the document as parsed JSON (what the Jobs API delivers) or as JSON text. */
export function parseJobDocument(document: unknown): ParsedJobDocument {
  try {
    return parseUnsafe(document);
  } catch (err) {
    // Only reachable through exotic input (e.g. a getter that throws); still a rejection, not a crash.
    return reject(`could not be read (${err instanceof Error ? err.message : String(err)})`.slice(0, 300));
  }
}

function parseUnsafe(document: unknown): ParsedJobDocument {
  let value = document;
  let size: number;
  if (typeof document === 'string') {
    size = Buffer.byteLength(document, 'utf8');
    if (size > MAX_DOCUMENT_BYTES) return tooLarge(size);
    try {
      value = JSON.parse(document);
    } catch {
      return reject('is not valid JSON');
    }
  } else {
    let json: string | undefined;
    try {
      json = JSON.stringify(document);
    } catch {
      return reject('is not JSON data');
    }
    size = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
    if (size > MAX_DOCUMENT_BYTES) return tooLarge(size);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return reject(`must be a JSON object, not ${describeJsonType(value)}`);

  const fields = value as Record<string, unknown>;
  if (fields.version === undefined && fields.operation !== undefined) return parseLegacy(fields);
  if (fields.version === undefined && fields.steps === undefined)
    return reject('version: required (or "operation" for the legacy single-handler form)');

  const result = documentSchema.safeParse(fields);
  if (!result.success) return reject(formatIssues(result.error.issues));
  const doc = result.data;
  const steps: PlannedStep[] = doc.steps.map((s, index) => ({ index, isFinal: false, ...s.action }));
  if (doc.finalStep) steps.push({ index: steps.length, isFinal: true, ...doc.finalStep.action });
  return {
    ok: true,
    plan: {
      legacy: false,
      includeStdOut: doc.includeStdOut ?? false,
      conditions: (doc.conditions ?? []).map((c) => ({
        key: c.key,
        values: c.value,
        type: c.type ?? 'stringEqual',
      })),
      steps,
    },
  };
}

function parseLegacy(fields: Record<string, unknown>): ParsedJobDocument {
  const result = legacyDocumentSchema.safeParse(fields);
  if (!result.success) return reject(formatIssues(result.error.issues));
  const doc = result.data;
  const directory =
    doc.path === undefined || doc.path === '' || doc.path === 'default' ? undefined : doc.path;
  return {
    ok: true,
    plan: {
      legacy: true,
      includeStdOut: doc.includeStdOut ?? false,
      conditions: [],
      steps: [
        {
          index: 0,
          isFinal: false,
          name: doc.operation,
          action: { type: 'runHandler', handler: doc.operation, args: doc.args ?? [], directory },
          runAsUser: '',
          allowStdErr: doc.allowStdErr,
          ignoreStepFailure: false,
          resumeAfterReboot: doc.operation === REBOOT_HANDLER,
        },
      ],
    },
  };
}

function reject(problem: string): ParsedJobDocument {
  return { ok: false, reason: PREFIX + problem };
}

function tooLarge(size: number): ParsedJobDocument {
  return reject(`is ${size} bytes; the limit is ${MAX_DOCUMENT_BYTES} bytes`);
}

/** `steps[1].action.input.handler: required; version: must be "1.0"` */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES).map((i) => `${formatPath(i.path)}: ${friendlyMessage(i)}`);
  const more = issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more problem${more === 1 ? '' : 's'}` : '');
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(document)' : out;
}

/** Zod's built-in messages for the few cases our schemas do not word themselves. */
function friendlyMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input'))
    return `must be ${issue.expected === 'array' ? 'an array' : issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
  return issue.message;
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value === undefined) return 'nothing';
  return `a ${typeof value}`;
}
