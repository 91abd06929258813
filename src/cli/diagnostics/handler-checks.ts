// Doctor checks of the handler directories: each must be owned and moded as the executor requires,
// and every handler in it usable. The rules are the executor's own (src/run/handler-resolution.ts),
// called here, not restated, so doctor and a running job never disagree.
import { readdir, realpath, stat } from 'node:fs/promises';
import type { ExecutorConfig } from '../../config/schema.js';
import {
  checkOwnershipAndMode,
  defaultHandlerDirectory,
  describeFsError,
  resolveHandler,
} from '../../run/handler-resolution.js';
import { isSystemDirectory } from '../../run/sudoers.js';
import { checkTrustedChain } from '../../run/trusted-path.js';
import { currentIdentity } from '../../run/users.js';
import { type CheckResult, failed, passed } from './check.js';

/** executor.handlerDirectories when the configuration has it, else [handlerDirectory or its default]. */
export function handlerDirectoriesOf(executor: ExecutorConfig, home: string, uid: number): string[] {
  const list = (executor as { handlerDirectories?: unknown }).handlerDirectories;
  if (Array.isArray(list) && list.length > 0 && list.every((d) => typeof d === 'string')) return list;
  return [executor.handlerDirectory ?? defaultHandlerDirectory(uid, home)];
}

async function checkDirectory(directory: string, uid: number): Promise<CheckResult[]> {
  const name = `handler directory ${directory}`;
  let real: string;
  try {
    real = await realpath(directory);
    const s = await stat(real);
    const facts = { mode: s.mode, uid: s.uid, isFile: s.isFile(), isDirectory: s.isDirectory() };
    if (isSystemDirectory(real))
      return [
        failed(
          name,
          `${real} is a system directory: a job document could run any of its programs with any arguments`,
          'list a directory that holds only job handlers (e.g. /etc/ggjobs/handlers), and allow single programs with executor.allowedCommands',
        ),
      ];
    // The directory and every ancestor up to /, exactly as the executor checks them before a run.
    const problem =
      checkOwnershipAndMode('handler directory', real, facts, uid) ?? checkTrustedChain(real, uid);
    if (problem) {
      return [
        failed(
          name,
          problem,
          `chown ${uid === 0 ? 'root' : uid} ${real} && chmod 0755 ${real} (or stricter)`,
        ),
      ];
    }
  } catch (err) {
    return [
      failed(
        name,
        `${directory} cannot be used (${describeFsError(err)})`,
        `create it as the user ggjobs runs as: install -d -m 0755 ${directory}`,
      ),
    ];
  }
  const names = (await readdir(real)).filter((n) => !n.startsWith('.')).sort();
  const results: CheckResult[] = [
    passed(name, `owned and moded as required, ${names.length} handler${names.length === 1 ? '' : 's'}`),
  ];
  for (const handler of names) {
    const resolved = resolveHandler({
      handler,
      defaultDirectory: real,
      allowedDirectories: [real],
      agentUid: uid,
    });
    results.push(
      resolved.ok
        ? passed(`handler ${handler}`, resolved.file)
        : failed(
            `handler ${handler}`,
            resolved.reason,
            `chown ${uid === 0 ? 'root' : uid} ${real}/${handler} && chmod 0755 ${real}/${handler}, or remove it`,
          ),
    );
  }
  return results;
}

/** One result per handler directory and one per handler in it, as the user doctor runs as. */
export async function checkHandlers(executor: ExecutorConfig): Promise<CheckResult[]> {
  const agent = currentIdentity();
  const results: CheckResult[] = [];
  for (const directory of handlerDirectoriesOf(executor, agent.home, agent.uid)) {
    results.push(...(await checkDirectory(directory, agent.uid)));
  }
  return results;
}
