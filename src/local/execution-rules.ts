// The AWS IoT Jobs rules for job executions, as pure functions: which statuses exist, which are
// terminal, which transitions a device may make, and what statusDetails may contain. The store applies
// them; tests check them directly.

export type ExecutionStatus =
  'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'REJECTED' | 'REMOVED' | 'CANCELED';

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'QUEUED',
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
];

const TERMINAL: ReadonlySet<ExecutionStatus> = new Set([
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
]);

/** The statuses a device may report; QUEUED, TIMED_OUT, REMOVED and CANCELED are set by the service. */
export const DEVICE_STATUSES: readonly ExecutionStatus[] = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'];

export function isExecutionStatus(value: unknown): value is ExecutionStatus {
  return typeof value === 'string' && (EXECUTION_STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL.has(status);
}

export function isPending(status: ExecutionStatus): boolean {
  return status === 'QUEUED' || status === 'IN_PROGRESS';
}

/**
 * Whether a device may move an execution from `from` to `to` (the project's Jobs notes,
 * /work/shared/notes/jobs-protocol.md): QUEUED -> IN_PROGRESS | REJECTED; IN_PROGRESS -> IN_PROGRESS
 * (updates statusDetails) | SUCCEEDED | FAILED | REJECTED; nothing leaves a terminal status. Stricter
 * than skipping IN_PROGRESS, so an agent that forgets to start an execution is caught locally.
 */
export function deviceMayTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  if (from === 'QUEUED') return to === 'IN_PROGRESS' || to === 'REJECTED';
  if (from === 'IN_PROGRESS') return DEVICE_STATUSES.includes(to);
  return false;
}

const DETAIL_KEY = /^[a-zA-Z0-9:_-]{1,128}$/;
// A value is 1-1024 characters none of which is in Unicode category C (control, format, unassigned...)
// except newline, carriage return and tab. The API reference's value pattern is [^\p{C}]+, but the
// service accepts these three: the AWS IoT Device Client reports handler stdout with its line breaks
// and its users see it in the console (awslabs/aws-iot-device-client#461). An emulator must not
// refuse what the service accepts, so only the other control characters are refused.
const DETAIL_VALUE = /^(?:[^\p{C}]|[\n\r\t]){1,1024}$/u;
export const MAX_STATUS_DETAILS = 10;

/** Checks statusDetails against the Jobs limits; returns what is wrong, or undefined when valid. */
export function statusDetailsProblem(details: unknown): string | undefined {
  if (details === undefined) return undefined;
  if (details === null || typeof details !== 'object' || Array.isArray(details)) {
    return 'statusDetails must be an object of string values';
  }
  const entries = Object.entries(details as Record<string, unknown>);
  if (entries.length > MAX_STATUS_DETAILS) {
    return `statusDetails may hold at most ${MAX_STATUS_DETAILS} entries, got ${entries.length}`;
  }
  for (const [key, value] of entries) {
    if (!DETAIL_KEY.test(key)) {
      return `statusDetails key '${key}' must match [a-zA-Z0-9:_-]{1,128}`;
    }
    if (typeof value !== 'string') return `statusDetails.${key} must be a string`;
    if (!DETAIL_VALUE.test(value)) {
      return `statusDetails.${key} must be 1-1024 characters without control characters (newline, carriage return and tab are allowed)`;
    }
  }
  return undefined;
}

/** stepTimeoutInMinutes is 1..10080 (one week) per the Jobs API. */
export function stepTimeoutProblem(minutes: unknown): string | undefined {
  if (minutes === undefined) return undefined;
  if (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 10080) {
    return 'stepTimeoutInMinutes must be an integer from 1 to 10080';
  }
  return undefined;
}
