// Who a step may run as, decided before anything runs. Pure: the agent's identity, the executor
// configuration and whether ggjobs runs as a Greengrass component are the only inputs.
//
// - executor.allowedRunAsUsers (default under Greengrass: root and the agent's user, so the AWS managed
//   templates' `runAsUser: root` steps work; standalone: the agent's user, which is root when the
//   agent is root). A document naming anyone else is REJECTED before its first step.
// - An empty runAsUser means executor.defaultRunAsUser (default: the agent's user).
// - How a step becomes another user (resolveRunUser in users.ts): a root agent switches uid/gid itself;
//   any other agent goes through `sudo -n -u USER --` (executor.sudo, default true).
import type { ExecutorConfig } from '../config/schema.js';
import type { JobPlan } from './document/schema.js';
import type { UserAccount } from './users.js';

export interface RunAsPolicy {
  allowed: readonly string[];
  defaultUser: string;
  /** A non-root agent may use sudo for another user. */
  sudo: boolean;
}

export function defaultAllowedRunAsUsers(agent: Pick<UserAccount, 'name' | 'uid'>, underGreengrass: boolean) {
  if (underGreengrass) return unique(['root', agent.name]);
  return unique(agent.uid === 0 ? [agent.name, 'root'] : [agent.name]);
}

export function runAsPolicy(
  config: Pick<ExecutorConfig, 'allowedRunAsUsers' | 'defaultRunAsUser' | 'sudo'>,
  agent: Pick<UserAccount, 'name' | 'uid'>,
  underGreengrass: boolean,
): RunAsPolicy {
  return {
    allowed: unique(config.allowedRunAsUsers ?? defaultAllowedRunAsUsers(agent, underGreengrass)),
    defaultUser: config.defaultRunAsUser ?? agent.name,
    sudo: config.sudo ?? true,
  };
}

/** The user a step runs as: its runAsUser, or the default user when that is empty. */
export function effectiveRunAsUser(runAsUser: string, policy: Pick<RunAsPolicy, 'defaultUser'>): string {
  return runAsUser === '' ? policy.defaultUser : runAsUser;
}

/** The document-level check: every step's user is in executor.allowedRunAsUsers. */
export function checkRunAsPolicy(
  plan: JobPlan,
  policy: RunAsPolicy,
): { ok: true } | { ok: false; reason: string } {
  for (const step of plan.steps) {
    const user = effectiveRunAsUser(step.runAsUser, policy);
    if (policy.allowed.includes(user)) continue;
    const where = step.isFinal ? 'finalStep' : `steps[${step.index}]`;
    const asked =
      step.runAsUser === ''
        ? `runAsUser "" (executor.defaultRunAsUser "${user}")`
        : `runAsUser ${JSON.stringify(user)}`;
    return {
      ok: false,
      reason:
        `${where}.action.runAsUser: ${asked} is not allowed on this device; executor.allowedRunAsUsers is [${policy.allowed.join(', ')}]`.slice(
          0,
          900,
        ),
    };
  }
  return { ok: true };
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}
