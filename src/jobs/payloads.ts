// Shapes of the Jobs messages the device receives, checked with zod before anything acts on them.
// Everything here is network input: parse failures are reported as values, never thrown.
import { z } from 'zod';

/** Larger payloads than this are dropped unread (AWS IoT's own MQTT payload limit is 128 KB). */
export const MAX_PAYLOAD_BYTES = 128 * 1024;

const count = z.number().int().nonnegative();
const epochSeconds = z.number().nonnegative();
const details = z.record(z.string(), z.string());

/** The service may add statuses; unknown ones are handled (as "not ours to act on") by the caller. */
export const executionStatus = z.string().min(1);

export const executionSchema = z.object({
  jobId: z.string().min(1),
  thingName: z.string().optional(),
  status: executionStatus,
  statusDetails: details.optional(),
  queuedAt: epochSeconds.optional(),
  startedAt: epochSeconds.optional(),
  lastUpdatedAt: epochSeconds.optional(),
  versionNumber: count,
  executionNumber: count,
  jobDocument: z.unknown().optional(),
});
export type Execution = z.infer<typeof executionSchema>;

export const executionStateSchema = z.object({
  status: executionStatus,
  statusDetails: details.optional(),
  versionNumber: count,
});
export type ExecutionState = z.infer<typeof executionStateSchema>;

export const describeAcceptedSchema = z.object({
  execution: executionSchema.optional(),
  timestamp: epochSeconds.optional(),
  clientToken: z.string().optional(),
});
export type DescribeAccepted = z.infer<typeof describeAcceptedSchema>;

export const updateAcceptedSchema = z.object({
  executionState: executionStateSchema.optional(),
  jobDocument: z.unknown().optional(),
  timestamp: epochSeconds.optional(),
  clientToken: z.string().optional(),
});
export type UpdateAccepted = z.infer<typeof updateAcceptedSchema>;

export const rejectedSchema = z.object({
  code: z.string().min(1),
  message: z.string().optional(),
  clientToken: z.string().optional(),
  timestamp: epochSeconds.optional(),
  executionState: executionStateSchema.optional(),
});
export type Rejected = z.infer<typeof rejectedSchema>;

const summarySchema = z.object({
  jobId: z.string().min(1),
  executionNumber: count.optional(),
  versionNumber: count.optional(),
  queuedAt: epochSeconds.optional(),
  startedAt: epochSeconds.optional(),
  lastUpdatedAt: epochSeconds.optional(),
});

/** JobExecutionsChanged (`notify-namespace-NS`): the thing's pending executions, by status. */
export const executionsChangedSchema = z.object({
  timestamp: epochSeconds.optional(),
  jobs: z.record(z.string(), z.array(summarySchema)),
});

/** NextJobExecutionChanged (`notify-next-namespace-NS`): no `execution` when nothing is pending. */
export const nextExecutionChangedSchema = z.object({
  timestamp: epochSeconds.optional(),
  execution: executionSchema
    .partial()
    .extend({ jobId: z.string().min(1) })
    .optional(),
});

/** The per-job notification's body is not specified anywhere; any JSON object is taken as a hint. */
export const perJobNotificationSchema = z.record(z.string(), z.unknown());

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/** JSON text -> checked value, or a one-line reason why not (for a log line). */
export function parsePayload<T>(payload: Uint8Array, schema: z.ZodType<T>): ParseResult<T> {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return { ok: false, problem: `payload of ${payload.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return { ok: false, problem: 'payload is not JSON' };
  }
  const res = schema.safeParse(json);
  if (!res.success) {
    const issue = res.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return { ok: false, problem: `unexpected shape at ${where}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, value: res.data };
}

export const TERMINAL_STATUSES = new Set([
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'TIMED_OUT',
  'REMOVED',
  'CANCELED',
]);
