// One agent per state directory: `<stateDirectory>/agent.lock` holds the PID (decimal text) of the
// agent that owns the directory's journal. Two agents on one journal would each take the other's
// records for their own and run executions twice, so a second one refuses to start.
//
// Taken atomically: the PID is written to a private temporary file which is then hard-linked to
// agent.lock (link fails with EEXIST when the lock exists; the lock is never seen half-written). A
// lock whose PID is not a live process, or is a live process that is not Node.js (the PID was reused,
// typically after a reboot), is stale and taken over: it is renamed aside (only one of two agents
// racing for it moves it), then the link is tried again. Released (deleted) when the agent stops; a
// killed agent leaves a stale lock behind, which the next start takes over. `ggjobs status` and
// `ggjobs doctor` read the journal and the lock without taking it.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { JournalError, StateDirectoryLockedError } from '../errors.js';

export const LOCK_FILE_NAME = 'agent.lock';
const TAKEOVER_ATTEMPTS = 5;
/** Lock files this process holds (a second agent in the same process is refused too). */
const held = new Set<string>();

export function lockFilePath(stateDirectory: string): string {
  return join(resolve(stateDirectory), LOCK_FILE_NAME);
}

export interface AgentLock {
  readonly file: string;
  release(): Promise<void>;
}

/** The PID in the lock file, undefined when there is none or it is not a PID. */
export async function readLockPid(stateDirectory: string): Promise<number | undefined> {
  try {
    const text = (await readFile(lockFilePath(stateDirectory), 'utf8')).trim();
    return /^\d{1,10}$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live Node.js process other than this one (what an agent holding a lock is). */
export async function isLiveAgentPid(pid: number): Promise<boolean> {
  if (pid === process.pid) return false; // a lock of an earlier life of this PID (container restart)
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (state === 'Z' || state === 'X') return false;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /node|ggjobs/i.test(cmdline);
  } catch {
    return true; // no /proc (or not readable): trust the signal check
  }
}

/** Takes the lock of `stateDirectory` for this process; StateDirectoryLockedError when an agent holds it. */
export async function acquireAgentLock(stateDirectory: string): Promise<AgentLock> {
  const dir = resolve(stateDirectory);
  const file = lockFilePath(dir);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new JournalError(`cannot create the state directory ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const temp = join(dir, `.${LOCK_FILE_NAME}.${process.pid}.${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
      try {
        await link(temp, file);
        return heldLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readLockPid(dir);
      const ours = holder === process.pid && held.has(file);
      if (holder !== undefined && (ours || (await isLiveAgentPid(holder)))) {
        throw new StateDirectoryLockedError(
          `the state directory ${dir} is in use by another ggjobs agent (PID ${holder}, lock file ${file}); ` +
            'stop that agent, or give this one its own stateDirectory',
        );
      }
      await takeOverStale(file, holder);
    }
    throw new StateDirectoryLockedError(
      `could not take the lock file ${file}: other agents keep racing for it`,
    );
  } catch (err) {
    if (err instanceof StateDirectoryLockedError) throw err;
    throw new JournalError(`cannot take the lock file ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Moves a stale lock aside; puts it back if what was moved turns out to be a live agent's (a race). */
async function takeOverStale(file: string, stalePid: number | undefined): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else moved it: try again
    throw err;
  }
  const moved = Number((await readFile(aside, 'utf8').catch(() => '')).trim());
  if (moved !== stalePid && Number.isInteger(moved) && moved > 0 && (await isLiveAgentPid(moved))) {
    await link(aside, file).catch(() => undefined); // another agent took it over meanwhile: restore
  }
  await unlink(aside).catch(() => undefined);
}

function heldLock(file: string): AgentLock {
  let released = false;
  held.add(file);
  return {
    file,
    async release() {
      if (released) return;
      released = true;
      held.delete(file);
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.trim() === String(process.pid)) await unlink(file).catch(() => undefined);
    },
  };
}
