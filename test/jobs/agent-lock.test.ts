// The state-directory lock on its own: taken atomically, refused while a live agent holds it (also
// a second agent in the same process), taken over when stale (dead PID, a PID reused by a process
// that is not Node.js, garbage), released only by its holder.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateDirectoryLockedError } from '../../src/errors.js';
import { acquireAgentLock, lockFilePath, readLockPid } from '../../src/jobs/agent-lock.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const stateDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ggjobs-lock-'));
  dirs.push(d);
  return join(d, 'state');
};

describe('agent.lock', () => {
  it('holds the PID, refuses a second holder naming the directory and PID, and is removed on release', async () => {
    const dir = stateDir();
    const lock = await acquireAgentLock(dir);
    expect(readFileSync(lockFilePath(dir), 'utf8')).toBe(`${process.pid}\n`);
    const second = acquireAgentLock(dir);
    await expect(second).rejects.toBeInstanceOf(StateDirectoryLockedError);
    await expect(second).rejects.toThrow(
      `the state directory ${dir} is in use by another ggjobs agent (PID ${process.pid}`,
    );
    await lock.release();
    expect(existsSync(lockFilePath(dir))).toBe(false);
    const again = await acquireAgentLock(dir);
    await again.release();
  });

  it('refuses while another live Node.js process holds it', async () => {
    const dir = stateDir();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    children.push(other);
    await (await acquireAgentLock(dir)).release(); // creates the directory
    writeFileSync(lockFilePath(dir), `${other.pid}\n`);
    await expect(acquireAgentLock(dir)).rejects.toThrow(`(PID ${other.pid}, lock file ${lockFilePath(dir)})`);
    expect(await readLockPid(dir)).toBe(other.pid);
  });

  it.each([
    ['a dead PID', () => `${spawnSync(process.execPath, ['-e', '0']).pid}\n`],
    ['garbage', () => 'not a pid'],
  ])('takes over a stale lock holding %s', async (_what, content) => {
    const dir = stateDir();
    await (await acquireAgentLock(dir)).release();
    writeFileSync(lockFilePath(dir), content());
    const lock = await acquireAgentLock(dir);
    expect(await readLockPid(dir)).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock whose PID now belongs to a process that is not an agent (PID reuse)', async () => {
    const dir = stateDir();
    const sleeper = spawn('sleep', ['60']);
    children.push(sleeper);
    await (await acquireAgentLock(dir)).release();
    writeFileSync(lockFilePath(dir), `${sleeper.pid}\n`);
    const lock = await acquireAgentLock(dir);
    expect(await readLockPid(dir)).toBe(process.pid);
    await lock.release();
  });

  it('release does not remove a lock another agent took over', async () => {
    const dir = stateDir();
    const lock = await acquireAgentLock(dir);
    writeFileSync(lockFilePath(dir), '999999999\n');
    await lock.release();
    expect(readFileSync(lockFilePath(dir), 'utf8')).toBe('999999999\n');
  });
});
