// The cloud-side step timer (stepTimeoutInMinutes) the agent asks for, as pure functions. The claim
// asks for the first step's timeout plus a margin, each heartbeat for what is left of the running
// step plus the margin, so that an execution whose device died is moved to TIMED_OUT by the service
// soon after the step would have timed out locally, and never while a live agent still works on it.
import { parseJobDocument } from '../run/document/parse.js';

/** AWS's range for stepTimeoutInMinutes. */
export const MIN_STEP_TIMEOUT_MINUTES = 1;
export const MAX_STEP_TIMEOUT_MINUTES = 10_080;
/** Slack added to every step timer: the local kill grace, the final status's round trip, clock skew. */
export const STEP_TIMER_MARGIN_SECONDS = 60;

export interface StepPlan {
  /** Steps in the document (steps + finalStep); 0 when it cannot be parsed. */
  count: number;
  names: string[];
  /** Each step's timeout in seconds (its own timeoutSeconds, else the executor default). */
  timeoutSeconds: number[];
}

export function stepPlan(document: unknown, defaultStepTimeoutSeconds: number): StepPlan {
  const parsed = parseJobDocument(document);
  if (!parsed.ok) return { count: 0, names: [], timeoutSeconds: [] };
  const steps = parsed.plan.steps;
  return {
    count: steps.length,
    names: steps.map((s) => s.name),
    timeoutSeconds: steps.map((s) => s.timeoutSeconds ?? defaultStepTimeoutSeconds),
  };
}

/** `seconds` plus the margin and the kill grace, in whole minutes rounded up, within 1..10080. */
export function stepTimeoutMinutes(seconds: number, killGraceSeconds: number): number {
  const total = Math.max(0, seconds) + STEP_TIMER_MARGIN_SECONDS + Math.max(0, killGraceSeconds);
  const minutes = Math.ceil(total / 60);
  return Math.min(MAX_STEP_TIMEOUT_MINUTES, Math.max(MIN_STEP_TIMEOUT_MINUTES, minutes));
}

/** The timer the claim asks for: the first step to run (or the default when the plan is unknown). */
export function claimStepTimeoutMinutes(
  plan: StepPlan,
  firstStep: number,
  defaultStepTimeoutSeconds: number,
  killGraceSeconds: number,
): number {
  const seconds = plan.timeoutSeconds[firstStep] ?? defaultStepTimeoutSeconds;
  return stepTimeoutMinutes(seconds, killGraceSeconds);
}
