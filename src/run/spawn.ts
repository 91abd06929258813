// Runs one step's process: argv (never a shell), a clean environment, optionally another uid/gid, in
// its own process group (detached = setsid) so that a timeout or a cancel can stop it together with
// everything it started. stdout and stderr are read concurrently as they arrive, into bounded tails,
// so a chatty process can neither block on a full pipe nor fill the agent's memory.
//
// When the process exits by itself, the step is over: output still buffered in the pipes is read
// (for at most DRAIN_AFTER_EXIT_MS if a background child keeps them open) and anything it left
// running in the background is left alone. On timeout or abort the whole group gets SIGTERM, then
// SIGKILL after the grace period, and runProcess resolves only once no live member is left.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { OutputTail } from './output-tail.js';
import { ProgressLineScanner } from './progress-lines.js';
import { type Invocation, sudoInvocation } from './sudo.js';

export interface ProcessRequest {
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  /** Run through sudo as this user (a non-root agent); the process group is then sudo's. */
  sudo?: { path: string; user: string };
  timeoutMs: number;
  killGraceMs: number;
  signal: AbortSignal;
  tailChars?: number;
  /** Called with the text of each `::progress <text>` line the process prints on stdout. */
  onProgress?: (text: string) => void;
}

export interface ProcessResult {
  /** Set when the process exited normally. */
  exitCode: number | null;
  /** Set when a signal ended it. */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The process could not be started (ENOENT, EACCES, a bad uid...). */
  startError?: NodeJS.ErrnoException;
  stdout: string;
  stderr: string;
  stderrLines: number;
}

/** How long output may keep flowing after the process exited (a background child holding the pipes). */
export const DRAIN_AFTER_EXIT_MS = 2_000;
/** After SIGKILL, how long to wait for the group to disappear before giving up (and logging). */
export const KILL_WAIT_MS = 5_000;
const POLL_MS = 25;

/** Process groups of steps that are running now: the agent SIGKILLs what is left of them on its way out. */
const trackedGroups = new Set<number>();
let exitHookInstalled = false;

function track(pgid: number): void {
  trackedGroups.add(pgid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort (process.exit with a step still running): nothing of a step outlives the agent.
  process.once('exit', () => {
    for (const group of trackedGroups) signalGroup(group, 'SIGKILL');
  });
}

/** The process groups of steps still running (for shutdown). */
export function trackedProcessGroups(): number[] {
  return [...trackedGroups];
}

/** SIGKILLs every tracked step group and waits (bounded) until none has a live member; true when gone. */
export async function killTrackedProcessGroups(withinMs = KILL_WAIT_MS): Promise<boolean> {
  const groups = [...trackedGroups];
  for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
  const results = await Promise.all(groups.map((pgid) => waitForGroupExit(pgid, withinMs)));
  return results.every(Boolean);
}

export async function runProcess(req: ProcessRequest): Promise<ProcessResult> {
  const stdout = new OutputTail(req.tailChars);
  const stderr = new OutputTail(req.tailChars);
  const result = (extra: Partial<ProcessResult>): ProcessResult => {
    stdout.end();
    stderr.end();
    return {
      exitCode: null,
      signal: null,
      timedOut: false,
      aborted: false,
      stdout: stdout.tail(),
      stderr: stderr.tail(),
      stderrLines: stderr.lines,
      ...extra,
    };
  };
  if (req.signal.aborted) return result({ aborted: true });

  let child: ChildProcess;
  try {
    const command = commandToSpawn(req);
    child = spawn(command.file, command.args, {
      cwd: req.cwd,
      env: req.env,
      uid: req.uid,
      gid: req.gid,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    return result({ startError: err as NodeJS.ErrnoException });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: Error }>(
    (resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => resolve({ error }));
    },
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const pgid = child.pid;
  if (pgid === undefined) {
    const outcome = await exited;
    return result({
      startError: ('error' in outcome ? outcome.error : new Error('not started')) as NodeJS.ErrnoException,
    });
  }
  track(pgid);

  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  if (req.onProgress) {
    const progress = new ProgressLineScanner(req.onProgress);
    child.stdout?.on('data', (chunk: Buffer) => progress.push(chunk));
    child.stdout?.on('end', () => progress.end());
  }
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdout?.on('error', () => {});
  child.stderr?.on('error', () => {});

  let hasExited = false;
  let timedOut = false;
  let aborted = false;
  let termination: Promise<void> | undefined;
  // If even SIGKILL cannot end the process (uninterruptible sleep), stop waiting rather than hang the job.
  let stopWaiting: () => void = () => {};
  const unkillable = new Promise<'unkillable'>((resolve) => {
    stopWaiting = () => resolve('unkillable');
  });
  const terminate = () => {
    termination ??= terminateGroup(pgid, req.killGraceMs).then(() => {
      setTimeout(stopWaiting, KILL_WAIT_MS).unref();
    });
  };
  const timer = setTimeout(() => {
    if (hasExited) return;
    timedOut = true;
    terminate();
  }, req.timeoutMs);
  const onAbort = () => {
    aborted = true;
    terminate();
  };
  req.signal.addEventListener('abort', onAbort, { once: true });

  try {
    const outcome = await Promise.race([exited, unkillable]);
    hasExited = true;
    clearTimeout(timer);
    if (!(await settlesWithin(closed, DRAIN_AFTER_EXIT_MS))) {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    if (termination) await termination;
    if (outcome === 'unkillable') return result({ timedOut, aborted });
    if ('error' in outcome)
      return result({ startError: outcome.error as NodeJS.ErrnoException, timedOut, aborted });
    return result({ exitCode: outcome.code, signal: outcome.signal, timedOut, aborted });
  } finally {
    clearTimeout(timer);
    req.signal.removeEventListener('abort', onAbort);
    trackedGroups.delete(pgid);
  }
}

/** What actually gets spawned for `req`: its file and args, or sudo running them as another user. */
export function commandToSpawn(req: Pick<ProcessRequest, 'file' | 'args' | 'env' | 'sudo'>): Invocation {
  if (!req.sudo) return { file: req.file, args: [...req.args] };
  return sudoInvocation(req.sudo.path, req.sudo.user, req.file, req.args, req.env);
}

/** SIGTERM to the group, SIGKILL after `graceMs`, then wait (bounded) until no live member is left. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitForGroupExit(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitForGroupExit(pgid, KILL_WAIT_MS);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function waitForGroupExit(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (!groupHasLiveMembers(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
}

/**
 * Whether any process of group `pgid` is still alive. On Linux this reads /proc and ignores zombies:
 * an orphaned grandchild that was killed stays a zombie until PID 1 reaps it, and some container
 * init processes never do. Elsewhere it falls back to kill(-pgid, 0).
 */
export function groupHasLiveMembers(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/** Whether a process is alive (exists and is not a zombie). Linux; used by tests and diagnostics. */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Whether `promise` settles within `ms` (the timer is cleared either way, so nothing lingers). */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
