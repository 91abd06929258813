// The only place that turns errors into process exit codes (documented in the README).
import { GgjobsError } from '../errors.js';

export const EXIT = {
  ok: 0,
  /** Unexpected failure (a bug, or an I/O error not covered below). */
  failure: 1,
  /** Invalid configuration, unknown command or bad flag. */
  usage: 2,
  /** The job cannot take this device's group: not found, not continuous, not in progress, full. */
  jobNotUsable: 3,
  /** AWS (the control plane) unreachable, or still throttled after the retries. */
  unavailable: 4,
} as const;

const BY_CODE: Record<string, number> = {
  GGJOBS_ERR_CONFIG_INVALID: EXIT.usage,
  GGJOBS_ERR_CONFIG_FILE: EXIT.usage,
  GGJOBS_ERR_USAGE: EXIT.usage,
  GGJOBS_ERR_JOB_NOT_FOUND: EXIT.jobNotUsable,
  GGJOBS_ERR_THING_GROUP_NOT_FOUND: EXIT.jobNotUsable,
  GGJOBS_ERR_THING_GROUP_AMBIGUOUS: EXIT.jobNotUsable,
  GGJOBS_ERR_JOB_NOT_CONTINUOUS: EXIT.jobNotUsable,
  GGJOBS_ERR_JOB_NOT_IN_PROGRESS: EXIT.jobNotUsable,
  GGJOBS_ERR_JOB_TARGETS_FULL: EXIT.jobNotUsable,
  GGJOBS_ERR_ASSOCIATION_REFUSED: EXIT.jobNotUsable,
  GGJOBS_ERR_JOB_NAMESPACE_MISMATCH: EXIT.jobNotUsable,
  GGJOBS_ERR_CONTROL_PLANE_ACCESS_DENIED: EXIT.jobNotUsable,
  GGJOBS_ERR_CONTROL_PLANE_UNAVAILABLE: EXIT.unavailable,
};

export function exitCodeFor(err: unknown): number {
  if (err instanceof GgjobsError) return BY_CODE[err.code] ?? EXIT.failure;
  return EXIT.failure;
}
