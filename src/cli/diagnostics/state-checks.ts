// Doctor checks of the state directory: the agent can write there, no other running agent holds its
// lock (`<stateDirectory>/agent.lock`, the PID as decimal text), and the journal can be read.
import { constants } from 'node:fs';
import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import { readJournal } from '../../jobs/journal.js';
import { describeFsError } from '../../run/handler-resolution.js';
import { type CheckResult, failed, messageOf, passed } from './check.js';

export const LOCK_FILE = 'agent.lock';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function checkStateWritable(stateDirectory: string): Promise<CheckResult> {
  const name = 'state directory writable';
  const dir = resolve(stateDirectory);
  const fix = `let the user ggjobs runs as write ${dir} (e.g. chown that user ${dir}; chmod 0700 ${dir}), or set stateDirectory`;
  if (!(await exists(dir))) {
    // The agent creates it on start; it can when the nearest existing parent is writable.
    let parent = dirname(dir);
    while (!(await exists(parent)) && dirname(parent) !== parent) parent = dirname(parent);
    try {
      await access(parent, constants.W_OK | constants.X_OK);
      return passed(name, `${dir} does not exist yet; ggjobs start creates it (in ${parent})`);
    } catch (err) {
      return failed(
        name,
        `${dir} does not exist and ${parent} is not writable (${describeFsError(err)})`,
        fix,
      );
    }
  }
  const probe = join(dir, `.doctor-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, 'ggjobs doctor\n');
    await rm(probe, { force: true });
    return passed(name, dir);
  } catch (err) {
    return failed(name, `${dir}: cannot write (${describeFsError(err)})`, fix);
  }
}

/** Whether a process with this PID runs (EPERM: it runs, as another user). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function checkStateLock(stateDirectory: string): Promise<CheckResult> {
  const name = 'state directory not locked';
  const lock = join(resolve(stateDirectory), LOCK_FILE);
  let text: string;
  try {
    text = await readFile(lock, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return passed(name, `no ${lock}`);
    return failed(name, `${lock}: cannot read (${describeFsError(err)})`, `check the permissions of ${lock}`);
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0)
    return failed(
      name,
      `${lock} holds ${JSON.stringify(text.trim().slice(0, 40))}, not a PID`,
      `remove ${lock} when no agent runs`,
    );
  if (pid !== process.pid && processRuns(pid))
    return failed(
      name,
      `locked by a running agent (PID ${pid}, ${lock})`,
      `stop that agent before starting another on ${resolve(stateDirectory)} (one agent per state directory), or give this one its own stateDirectory`,
    );
  return passed(name, `${lock} is stale (PID ${pid} is not running); the next agent takes it over`);
}

export async function checkJournal(config: Config): Promise<CheckResult> {
  const name = 'journal readable';
  const ids = { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId };
  try {
    const { records, problems } = await readJournal(config.stateDirectory, ids);
    if (problems.length > 0) {
      return failed(
        name,
        problems.map((p) => `${p.file}: ${p.problem}`).join('\n'),
        'ggjobs start moves unreadable records aside (as <file>.corrupt-<time>) and logs them; or move them aside by hand',
      );
    }
    return passed(name, `${records.length} execution record${records.length === 1 ? '' : 's'}`);
  } catch (err) {
    return failed(name, messageOf(err), `let the user ggjobs runs as read ${resolve(config.stateDirectory)}`);
  }
}
