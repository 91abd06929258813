// The job document format: AWS IoT Device Client documents (schema version "1.0") and the AWS managed
// job templates built on it, plus a few clearly named ggjobs additions (per-step `timeoutSeconds`,
// `resumeAfterReboot` and the `download` step type). Unknown keys are ignored, as the Device Client
// ignores them (`_comment` is common in the wild). Booleans may be JSON booleans or "true"/"false".
import { posix } from 'node:path';
import { z } from 'zod';
import { boolField, intField } from '../../config/schema.js';
import { splitCommandLine } from './command-line.js';

/** The Jobs service's own limit for a job document. */
export const MAX_DOCUMENT_BYTES = 32_768;
export const STEP_TYPES = ['runHandler', 'runCommand', 'download'] as const;
export type StepType = (typeof STEP_TYPES)[number];
/** The handler the AWS-Reboot template names; its steps resume after the restart unless told otherwise. */
export const REBOOT_HANDLER = 'reboot.sh';

const hasNoNul = (s: string) => !s.includes('\0');

/** A string field; `what` completes "must be ..." for a value of the wrong type. */
function text(what = 'a string') {
  return z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : `must be ${what}`) })
    .refine(hasNoNul, { error: 'must not contain NUL characters' });
}

function nonEmptyText(what = 'a non-empty string') {
  return text(what).refine((s) => s.length > 0, { error: 'must not be empty' });
}

function stringList(what: string) {
  return z.array(text(), { error: (iss) => (iss.input === undefined ? 'required' : `must be ${what}`) });
}

const userName = text('a user name').refine(
  (s) => s === '' || /^[A-Za-z0-9_.][A-Za-z0-9_.@$-]{0,255}$/.test(s),
  {
    error: 'must be a user name (letters, digits, "_", ".", "-", "@", "$"; not starting with "-")',
  },
);

/** `path` of runHandler: "default" (or empty) = the configured handler directory, else an absolute directory. */
const handlerPath = text()
  .refine((p) => p === '' || p === 'default' || posix.isAbsolute(p), {
    error: 'must be "default" or an absolute directory path',
  })
  .refine((p) => !p.split('/').includes('..'), { error: 'must not contain ".." segments' });

export const handlerInputSchema = z.object(
  {
    handler: nonEmptyText('a handler file name'),
    args: stringList('an array of strings').optional(),
    path: handlerPath.optional(),
  },
  { error: (iss) => (iss.input === undefined ? 'required' : 'must be an object') },
);

export const commandInputSchema = z.object(
  {
    command: nonEmptyText('a comma-separated command line').transform((line, ctx) => {
      const argv = splitCommandLine(line);
      const exe = argv[0] ?? '';
      if (exe === '') ctx.addIssue({ code: 'custom', message: 'must start with an executable' });
      else if (/\s/.test(exe))
        ctx.addIssue({
          code: 'custom',
          message:
            'the executable (before the first comma) must not contain spaces; separate arguments with commas',
        });
      return argv;
    }),
  },
  { error: (iss) => (iss.input === undefined ? 'required' : 'must be an object') },
);

function isDownloadUrl(value: string): boolean {
  try {
    return ['http:', 'https:', 'file:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

export const downloadInputSchema = z.object(
  {
    url: nonEmptyText('a URL').refine(isDownloadUrl, { error: 'must be an http:, https: or file: URL' }),
    sha256: text('a SHA-256 digest')
      .regex(/^[0-9a-fA-F]{64}$/, { error: 'must be 64 hexadecimal characters (a SHA-256 digest)' })
      .transform((s) => s.toLowerCase()),
    destination: nonEmptyText('an absolute file path').refine(
      (p) =>
        posix.isAbsolute(p) && !p.endsWith('/') && posix.basename(p) !== '..' && posix.basename(p) !== '.',
      { error: 'must be an absolute file path' },
    ),
  },
  { error: (iss) => (iss.input === undefined ? 'required' : 'must be an object') },
);

export type StepAction =
  /** `directory` undefined = the configured handler directory. */
  | { type: 'runHandler'; handler: string; args: string[]; directory?: string }
  | { type: 'runCommand'; argv: string[] }
  | { type: 'download'; url: string; sha256: string; destination: string };

export interface PlannedStep {
  /** Position in the flattened list (steps..., then finalStep): the index JobContext sees. */
  index: number;
  name: string;
  isFinal: boolean;
  action: StepAction;
  /** '' = run as the agent's own user. */
  runAsUser: string;
  /** Lines of stderr tolerated on exit code 0; undefined = stderr never fails the step. */
  allowStdErr?: number;
  ignoreStepFailure: boolean;
  timeoutSeconds?: number;
  resumeAfterReboot: boolean;
}

export interface JobCondition {
  key: string;
  values: string[];
  type: string;
}

export interface JobPlan {
  /** The document used the legacy `operation` form. */
  legacy: boolean;
  includeStdOut: boolean;
  /** Parsed and kept for logging; never evaluated (the Device Client does not either). */
  conditions: JobCondition[];
  steps: PlannedStep[];
}

type ActionFields = Omit<PlannedStep, 'index' | 'isFinal'>;

const actionSchema = z
  .object(
    {
      name: nonEmptyText(),
      type: z.enum(STEP_TYPES, {
        error: (iss) => (iss.input === undefined ? 'required' : `must be one of ${STEP_TYPES.join(', ')}`),
      }),
      input: z.unknown().optional(),
      runAsUser: userName.optional(),
      allowStdErr: intField(0, 1_000_000).optional(),
      ignoreStepFailure: boolField.optional(),
      // ggjobs additions:
      timeoutSeconds: intField(1, 7 * 86_400).optional(),
      resumeAfterReboot: boolField.optional(),
    },
    { error: (iss) => (iss.input === undefined ? 'required' : 'must be an object') },
  )
  .transform((raw, ctx): ActionFields => {
    const action = parseInput(raw.type, raw.input, ctx);
    return {
      name: raw.name,
      action,
      runAsUser: raw.runAsUser ?? '',
      allowStdErr: raw.allowStdErr,
      ignoreStepFailure: raw.ignoreStepFailure ?? false,
      timeoutSeconds: raw.timeoutSeconds,
      resumeAfterReboot:
        raw.resumeAfterReboot ?? (action.type === 'runHandler' && action.handler === REBOOT_HANDLER),
    };
  });

/** Validates `input` against its type's schema, reporting problems under `input.`. */
function parseInput(type: StepType, input: unknown, ctx: z.RefinementCtx): StepAction {
  const schema =
    type === 'runHandler'
      ? handlerInputSchema
      : type === 'runCommand'
        ? commandInputSchema
        : downloadInputSchema;
  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: ['input', ...issue.path] });
    // The caller sees the issues; this placeholder never reaches a plan.
    return { type: 'runCommand', argv: [] };
  }
  const data = result.data;
  if ('handler' in data)
    return {
      type: 'runHandler',
      handler: data.handler,
      args: data.args ?? [],
      directory:
        data.path === undefined || data.path === '' || data.path === 'default' ? undefined : data.path,
    };
  if ('command' in data) return { type: 'runCommand', argv: data.command };
  return { type: 'download', url: data.url, sha256: data.sha256, destination: data.destination };
}

const stepSchema = z.object(
  { action: actionSchema },
  { error: (iss) => (iss.input === undefined ? 'required' : 'must be an object like {"action": {...}}') },
);

const conditionSchema = z.object(
  {
    key: nonEmptyText(),
    value: stringList('an array of strings').refine((v) => v.length > 0, { error: 'must not be empty' }),
    type: text().optional(),
  },
  { error: 'must be an object' },
);

const version = z.union([z.literal('1.0'), z.literal('1'), z.literal(1)], {
  error: (iss) => (iss.input === undefined ? 'required' : 'must be "1.0"'),
});

export const documentSchema = z.object({
  version,
  includeStdOut: boolField.optional(),
  conditions: z.array(conditionSchema, { error: 'must be an array' }).optional(),
  steps: z
    .array(stepSchema, {
      error: (iss) => (iss.input === undefined ? 'required' : 'must be an array of steps'),
    })
    .min(1, { error: 'must contain at least one step' }),
  finalStep: stepSchema.optional(),
});

/** The legacy form: one runHandler step named after `operation`. */
export const legacyDocumentSchema = z.object({
  operation: nonEmptyText('a handler file name'),
  args: stringList('an array of strings').optional(),
  path: handlerPath.optional(),
  allowStdErr: intField(0, 1_000_000).optional(),
  includeStdOut: boolField.optional(),
});
