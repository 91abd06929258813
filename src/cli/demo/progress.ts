// Turns the agent's events into the lines `ggjobs demo` prints while the job runs.
import type { AgentEvent } from '../../agent.js';
import type { StepStart } from '../../run/types.js';

const PHASE_LINES: Record<string, string> = {
  claiming: 'claiming it: UpdateJobExecution -> IN_PROGRESS (expectedVersion set)',
  started: 'IN_PROGRESS accepted; running the job document',
  finished: 'finished; reporting the final status (kept in the outbox until accepted)',
  reported: 'final status accepted by the service',
  dropped: 'final status dropped: the service says the execution is no longer active',
  cancelled: 'cancelled by the service',
};

export function describeAgentEvent(event: AgentEvent): string | undefined {
  switch (event.type) {
    case 'enrolled':
      switch (event.result.result) {
        case 'associated':
          return `enrolled: thing group ${event.result.thingGroupArn} associated with ${event.result.jobArn}`;
        case 'already-associated':
          return `enrolled: thing group already a target of ${event.result.jobArn}`;
        case 'has-execution':
          return 'enrolled: the device already has an execution of the job (data plane; no control-plane call)';
        default:
          return 'enrolled: as recorded in the state directory (no call made)';
      }
    case 'enroll-deferred':
      return `enroll deferred (${event.error.message}); retrying in ${Math.round(event.retryInMs / 1000)}s`;
    case 'listening':
      return `agent ready: enrolled and listening (${event.transport} transport)`;
    case 'notification':
      return event.mentionsJob ? `notified on the ${event.form} topic` : undefined;
    case 'transition': {
      const line = PHASE_LINES[event.to];
      return line ? `execution #${event.executionNumber}: ${line}` : undefined;
    }
    case 'heartbeat': {
      const d = event.statusDetails;
      const progress = d.progress ? `, progress "${d.progress}"` : '';
      const step = Number(d.stepIndex) + 1;
      return `  heartbeat: step ${step}/${d.stepCount} "${d.step}" running ${d.elapsedSeconds}s${progress} (IN_PROGRESS update renews the step timer)`;
    }
    default:
      return undefined;
  }
}

/**
 * The line for the listener's first look at the job, printed once: the agent listens before it enrolls
 * (data plane first), so the execution the association creates may run before enroll has returned.
 */
export function describeListening(): string {
  return 'listening on the namespaced job topics (subscribed and described; enrolling meanwhile)';
}

export function describeStepStart(step: StepStart): string {
  return `  step ${step.index + 1} "${step.name}" starting`;
}

export function describeStepEnd(
  step: StepStart & { ok: boolean; reason?: string; skipped?: boolean },
): string {
  if (step.skipped) return `  step ${step.index + 1} "${step.name}" skipped (ran before a restart)`;
  return step.ok
    ? `  step ${step.index + 1} "${step.name}" succeeded`
    : `  step ${step.index + 1} "${step.name}" failed: ${step.reason ?? 'no reason given'}`;
}
