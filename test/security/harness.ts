// The attack catalogue's harness: one real `ggjobs start` (mqtt transport) per test file against the
// embedded local AWS IoT stack, and hostile documents delivered as real job executions. Each attack
// is a new continuous job; the agent is pointed at it by saving its config file (the supervisor
// re-enrolls and runs the execution in the same process), optionally with other executor settings.
// Every attack names a marker file that exists only if something the document asked for ran.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AgentProcess,
  deviceConfig,
  handlerDirectory,
  type JobsStack,
  SITE_GROUP,
  saveAtomically,
  spawnGgjobs,
  startJobsStack,
  THING,
  waitFor,
} from '../agent/helpers.js';
import { createJobWithDocument } from '../agent/reliability-helpers.js';
import { safeTempDir } from '../support/safe-dir.js';

const WAIT_MS = 45_000;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED', 'REMOVED']);

export interface Outcome {
  status: string;
  details: Record<string, string>;
  reason: string;
}

export interface AttackBench {
  js: JobsStack;
  agent: AgentProcess;
  /** A trusted handler directory (the configured executor.handlerDirectory). */
  handlers: string;
  /** A trusted scratch directory (for more handler directories, markers). */
  safe: string;
  /** Untrusted scratch space under /tmp. */
  work: string;
  /** The default download directory (<stateDirectory>/downloads). */
  downloads: string;
  /** A fresh marker path that nothing has created. */
  marker(name?: string): string;
  /** Runs `document` as a new job execution with these executor settings; waits for its end. */
  deliver(document: unknown, executor?: Record<string, unknown>): Promise<Outcome>;
  /** Writes a handler script (mode 0700 unless given) into `dir`. */
  handler(dir: string, name: string, script: string, mode?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startAttackBench(
  env: (js: JobsStack) => Record<string, string> = () => ({}),
): Promise<AttackBench> {
  const js = await startJobsStack();
  const work = await mkdtemp(join(tmpdir(), 'ggjobs-attack-'));
  const handlers = await handlerDirectory(work);
  const safe = await safeTempDir('attack-safe-', 0o755);
  const markers = await safeTempDir('attack-markers-', 0o755);
  // mark.sh ARG: a legitimate handler that leaves a marker (argv[1] is runAsUser, Device Client style).
  await writeFile(join(handlers, 'mark.sh'), '#!/bin/sh\ntouch "$2"\n');
  await chmod(join(handlers, 'mark.sh'), 0o700);
  const configFile = join(work, 'ggjobs.yaml');
  const base = deviceConfig(js, work, handlers, { jobId: 'attack-0', logLevel: 'info' });
  const downloads = join(work, 'state', 'downloads');
  await js.createThing(THING, [SITE_GROUP]);
  let n = 0;
  let markerCount = 0;
  const createJob = (jobId: string, document: unknown) => createJobWithDocument(js, jobId, document);
  await createJob('attack-0', {
    version: '1.0',
    steps: [{ action: { name: 'Warm-Up', type: 'runHandler', input: { handler: 'echo.sh', args: ['up'] } } }],
  });
  await saveAtomically(configFile, base);
  const agent = spawnGgjobs(['start', '--config', configFile], env(js));
  await waitFor(
    async () => (await js.execution('attack-0'))?.status === 'SUCCEEDED',
    'the warm-up execution to succeed',
    WAIT_MS,
  );

  const bench: AttackBench = {
    js,
    agent,
    handlers,
    safe,
    work,
    downloads,
    marker(name = 'ran') {
      markerCount += 1;
      return join(markers, `${name}-${markerCount}`);
    },
    async deliver(document, executor = {}) {
      n += 1;
      const jobId = `attack-${n}`;
      await createJob(jobId, document);
      await saveAtomically(configFile, {
        ...base,
        jobId,
        executor: { ...(base.executor as object), ...executor },
      });
      const execution = await waitFor(
        async () => {
          if (agent.child.exitCode !== null)
            throw new Error(`the agent exited:\n${agent.stderr.slice(-3000)}`);
          const e = await js.execution(jobId);
          return e?.status && TERMINAL.has(e.status) ? e : undefined;
        },
        `${jobId} to end`,
        WAIT_MS,
      );
      const details = execution.statusDetails?.detailsMap ?? {};
      return { status: execution.status!, details, reason: details.reason ?? '' };
    },
    async handler(dir, name, script, mode = 0o700) {
      const file = join(dir, name);
      await writeFile(file, `#!/bin/sh\n${script}\n`);
      await chmod(file, mode);
      return file;
    },
    async close() {
      await agent.stop('SIGTERM');
      await js.close();
      await rm(work, { recursive: true, force: true });
      for (const dir of [handlers, safe, markers]) await rm(dir, { recursive: true, force: true });
    },
  };
  return bench;
}

/** Asserts nothing ran: the marker is absent. */
export function ran(marker: string): boolean {
  return existsSync(marker);
}

export async function mkdirMode(path: string, mode: number): Promise<string> {
  await mkdir(path, { recursive: true });
  await chmod(path, mode);
  return path;
}

/** One runHandler step. */
export function handlerStep(handler: string, args: string[] = [], extra: Record<string, unknown> = {}) {
  return {
    version: '1.0',
    steps: [{ action: { name: 'Attack', type: 'runHandler', input: { handler, args, ...extra } } }],
  };
}
