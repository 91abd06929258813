// Request payloads of the Jobs MQTT API, decoded and validated (pure; no I/O). A payload that is not
// UTF-8 JSON is InvalidJson; JSON that is not an object, or a field of the wrong type, is
// InvalidRequest with a message naming the field. Unknown fields are ignored, as AWS does.
import { z } from 'zod';
import { EXECUTION_STATUSES, statusDetailsProblem, stepTimeoutProblem } from '../execution-rules.js';
import type { DataPlaneOperation } from './topics.js';

export type RequestProblem = { code: 'InvalidJson' | 'InvalidRequest'; message: string };

const clientToken = z
  .string({ error: 'clientToken must be a string' })
  .max(64, { error: 'clientToken must be at most 64 characters' })
  .optional();
const executionNumber = z
  .number({ error: 'executionNumber must be a whole number' })
  .int({ error: 'executionNumber must be a whole number' })
  .min(1, { error: 'executionNumber must be at least 1' })
  .optional();
const flag = (name: string) => z.boolean({ error: `${name} must be true or false` }).optional();
const statusDetails = z
  .unknown()
  .superRefine((value, ctx) => {
    const problem = statusDetailsProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => value as Record<string, string> | undefined)
  .optional();
const stepTimeoutInMinutes = z
  .unknown()
  .superRefine((value, ctx) => {
    const problem = stepTimeoutProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => value as number | undefined)
  .optional();

export const describeRequestSchema = z.object({
  clientToken,
  executionNumber,
  includeJobDocument: flag('includeJobDocument'),
});

export const updateRequestSchema = z.object({
  clientToken,
  status: z.enum(EXECUTION_STATUSES as [string, ...string[]], {
    error: `status is required and must be one of ${EXECUTION_STATUSES.join(', ')}`,
  }),
  statusDetails,
  expectedVersion: z
    .number({ error: 'expectedVersion must be a whole number' })
    .int({ error: 'expectedVersion must be a whole number' })
    .min(0, { error: 'expectedVersion must not be negative' })
    .optional(),
  executionNumber,
  includeJobExecutionState: flag('includeJobExecutionState'),
  includeJobDocument: flag('includeJobDocument'),
  stepTimeoutInMinutes,
});

export const getPendingRequestSchema = z.object({ clientToken });

export const startNextRequestSchema = z.object({ clientToken, statusDetails, stepTimeoutInMinutes });

export type DescribeRequest = z.infer<typeof describeRequestSchema>;
export type UpdateRequest = z.infer<typeof updateRequestSchema>;
export type GetPendingRequest = z.infer<typeof getPendingRequestSchema>;
export type StartNextRequest = z.infer<typeof startNextRequestSchema>;

export type DecodedPayload =
  | { ok: true; value: Record<string, unknown>; clientToken?: string }
  | { ok: false; problem: RequestProblem; clientToken?: string };

/**
 * Parses the raw payload into a JSON object. An empty payload counts as `{}` (several device agents
 * publish `jobs/get` with no body). The clientToken, when it is a string, is returned even when the
 * payload is otherwise invalid, so that every reply can echo it.
 */
export function decodePayload(payload: Buffer): DecodedPayload {
  if (payload.length === 0) return { ok: true, value: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return { ok: false, problem: { code: 'InvalidJson', message: 'the payload is not UTF-8 encoded JSON' } };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return {
      ok: false,
      problem: { code: 'InvalidRequest', message: 'the payload must be a JSON object' },
    };
  }
  const value = parsed as Record<string, unknown>;
  const token = value.clientToken;
  return typeof token === 'string' ? { ok: true, value, clientToken: token } : { ok: true, value };
}

const SCHEMAS = {
  DescribeJobExecution: describeRequestSchema,
  UpdateJobExecution: updateRequestSchema,
  GetPendingJobExecutions: getPendingRequestSchema,
  StartNextPendingJobExecution: startNextRequestSchema,
} as const;

export interface RequestByOperation {
  DescribeJobExecution: DescribeRequest;
  UpdateJobExecution: UpdateRequest;
  GetPendingJobExecutions: GetPendingRequest;
  StartNextPendingJobExecution: StartNextRequest;
}

export type ValidatedRequest<O extends DataPlaneOperation> =
  { ok: true; request: RequestByOperation[O] } | { ok: false; problem: RequestProblem };

/** Validates a decoded payload for `operation`; the message names the first offending field. */
export function validateRequest<O extends DataPlaneOperation>(
  operation: O,
  value: Record<string, unknown>,
): ValidatedRequest<O> {
  const result = SCHEMAS[operation].safeParse(value);
  if (result.success) return { ok: true, request: result.data as RequestByOperation[O] };
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.');
  const message = issue?.message ?? 'invalid request';
  return {
    ok: false,
    problem: {
      code: 'InvalidRequest',
      message: field && !message.startsWith(field) ? `${field}: ${message}` : message,
    },
  };
}
