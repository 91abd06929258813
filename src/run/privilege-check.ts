// Whether steps for other users can run on this device, before a job finds out: for `ggjobs doctor`
// (issue 11) and anyone else who wants to report it. For every user in executor.allowedRunAsUsers
// other than the agent's, a non-root agent needs sudo and a rule that lets it run the handlers; this
// asks sudo (`sudo -n -l`, which runs nothing) about one handler of the default handler directory.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutorConfig } from '../config/schema.js';
import { runAsPolicy } from './privilege.js';
import { checkSudoAllows, findSudo, type SudoCheck } from './sudo.js';
import type { UserAccount } from './users.js';

export interface PrivilegeFinding {
  ok: boolean;
  message: string;
}

export interface PrivilegeCheckDeps {
  findSudo?: () => Promise<string | undefined>;
  checkSudoAllows?: (sudo: string, user: string, file: string, args: readonly string[]) => Promise<SudoCheck>;
}

export async function checkPrivilegeSetup(
  config: ExecutorConfig,
  agent: UserAccount,
  handlerDirectory: string,
  underGreengrass: boolean,
  deps: PrivilegeCheckDeps = {},
): Promise<PrivilegeFinding[]> {
  const policy = runAsPolicy(config, agent, underGreengrass);
  const others = policy.allowed.filter((name) => name !== agent.name);
  const allowed = `executor.allowedRunAsUsers is [${policy.allowed.join(', ')}]`;
  if (others.length === 0) return [{ ok: true, message: `steps run as ${agent.name} only (${allowed})` }];
  if (agent.uid === 0)
    return [
      { ok: true, message: `ggjobs runs as root and switches to ${others.join(', ')} itself (${allowed})` },
    ];
  if (!policy.sudo)
    return [
      {
        ok: false,
        message: `steps as ${others.join(', ')} will fail: ggjobs runs as ${agent.name} and executor.sudo is false (${allowed})`,
      },
    ];
  const sudo = await (deps.findSudo ?? findSudo)();
  if (!sudo)
    return [
      {
        ok: false,
        message: `steps as ${others.join(', ')} will fail: sudo is not installed; install it and redeploy the component so its Install step writes the rule`,
      },
    ];
  let probe: string | undefined;
  try {
    probe = (await readdir(handlerDirectory, { withFileTypes: true })).find((e) => e.isFile())?.name;
  } catch {
    return [{ ok: false, message: `handler directory ${handlerDirectory} cannot be read` }];
  }
  if (!probe)
    return [{ ok: true, message: `sudo is installed; ${handlerDirectory} holds no handler to check` }];
  const ask = deps.checkSudoAllows ?? checkSudoAllows;
  const findings: PrivilegeFinding[] = [];
  for (const user of others) {
    const file = join(handlerDirectory, probe);
    const answer = await ask(sudo, user, file, []);
    findings.push(
      answer.ok
        ? { ok: true, message: `sudo lets ${agent.name} run handlers (${file}) as ${user}` }
        : {
            ok: false,
            message: `sudo does not let ${agent.name} run ${file} as ${user} (${answer.detail}): redeploy the component or run \`ggjobs sudoers --apply\` as root`,
          },
    );
  }
  return findings;
}
