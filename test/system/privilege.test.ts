// Privilege separation on a real system (npm run test:system; .ci/run installs sudo first). As root,
// the test creates an unprivileged user, installs the rule `ggjobs sudoers --apply` generates, and
// starts `ggjobs start` AS THAT USER against the local AWS IoT stack. Then: a runAsUser: root step
// really runs as uid 0 through sudo; a document naming a user outside allowedRunAsUsers is REJECTED;
// the AWS-Reboot (reboot.sh in dry-run mode) and AWS-Install-Application (dry run) documents, unchanged,
// SUCCEED; and the user cannot use the rule for anything else (`sudo -n -u root /bin/sh`).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { lookupUser, type UserAccount } from '../../src/run/users.js';
import {
  deviceConfig,
  type JobsStack,
  LOCAL_CREDENTIALS,
  SITE_GROUP,
  startJobsStack,
  THING,
  waitFor,
} from '../agent/helpers.js';
import { createJobWithDocument } from '../agent/reliability-helpers.js';
import { ROOT } from '../cli/run-cli.js';
import { managedTemplateDocuments } from '../run/fixtures/documents.js';

const AGENT_USER = 'ggjobs_systest';
const COMPONENT = 'io.ggjobs.SystemTest';
const RULE = '/etc/sudoers.d/ggjobs-io_ggjobs_SystemTest';
const WAIT_MS = 60_000;

let agentUser: UserAccount;
let js: JobsStack;
let base: string;
let handlers: string;
let artifact: string;
let componentWork: string;
let agent:
  { child: ChildProcessWithoutNullStreams; stderr: () => string; exited: Promise<unknown> } | undefined;

function executorSection() {
  return {
    allowedRunAsUsers: ['root', AGENT_USER],
    allowedCommands: ['id', 'logger'],
    environment: { GGJOBS_DRY_RUN: '1' },
    killGraceSeconds: '2',
  };
}

function run(
  file: string,
  args: string[],
  options: { asAgent?: boolean; env?: Record<string, string> } = {},
) {
  const res = spawnSync(file, args, {
    encoding: 'utf8',
    cwd: '/',
    timeout: 30_000,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...options.env },
    ...(options.asAgent ? { uid: agentUser.uid, gid: agentUser.gid } : {}),
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('npm run test:system must run as root (it creates a user and a sudoers file)');
  if (!existsSync('/usr/bin/sudo') || !existsSync('/usr/sbin/visudo'))
    throw new Error('npm run test:system needs sudo: apt-get install -y sudo (.ci/run does)');
  if (!(await lookupUser(AGENT_USER)))
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      AGENT_USER,
    ]);
  agentUser = (await lookupUser(AGENT_USER))!;

  // The artifact as the nucleus unpacks it: its files belong to the component user.
  // Under /var/lib (root-owned, 0755 all the way up): the executor refuses handler directories below
  // /tmp, and the unprivileged agent user must be able to traverse every ancestor.
  base = await mkdtemp('/var/lib/ggjobs-systest-');
  await chmod(base, 0o755);
  artifact = join(base, 'artifact', 'handlers');
  await mkdir(artifact, { recursive: true, mode: 0o755 });
  for (const name of await readdir(join(ROOT, 'handlers')))
    await copyFile(join(ROOT, 'handlers', name), join(artifact, name));
  await writeFile(
    join(artifact, 'whoami.sh'),
    '#!/bin/sh\necho "uid=$(id -u) user=$USER job=$GGJOBS_JOB_ID arg1=[$1]"\n',
  );
  await writeFile(join(artifact, 'sleeper.sh'), '#!/bin/sh\nexec sleep 3131\n');
  for (const name of await readdir(artifact)) {
    await chmod(join(artifact, name), 0o755);
    await chown(join(artifact, name), agentUser.uid, agentUser.gid);
  }
  await chown(artifact, agentUser.uid, agentUser.gid);
  // The agent runs what the component ships: the esbuild bundle (scripts/package.mjs), under base so
  // the agent user can read it wherever the checkout is (e.g. below /root, which it cannot enter).
  const packaging = (await import(pathToFileURL(join(ROOT, 'scripts', 'package.mjs')).href)) as {
    bundle(outdir: string): Promise<unknown>;
  };
  await packaging.bundle(join(base, 'component', 'dist', 'cli'));
  await copyFile(join(ROOT, 'package.json'), join(base, 'component', 'package.json'));
  // The component's work folder, which the nucleus gives to the component user.
  componentWork = join(base, 'work');
  await mkdir(componentWork, { mode: 0o700 });
  await chown(componentWork, agentUser.uid, agentUser.gid);
  // Where Install copies the handlers (root-owned, like every ancestor).
  handlers = join(base, 'installed', 'handlers');
  // A handler outside the allowed directories, executable by anyone.
  await mkdir(join(base, 'elsewhere'), { mode: 0o755 });
  await writeFile(join(base, 'elsewhere', 'x.sh'), '#!/bin/sh\nid -u\n', { mode: 0o755 });
  await chmod(join(base, 'elsewhere', 'x.sh'), 0o755);

  // What the recipe's Install step runs (as root), with the environment its Setenv gives.
  const applied = run(
    process.execPath,
    [
      join(ROOT, 'bin/ggjobs.js'),
      'sudoers',
      '--apply',
      '--component',
      COMPONENT,
      '--user-of',
      componentWork,
      '--install-handlers',
      artifact,
    ],
    {
      env: {
        GGJOBS_EXECUTOR_CONFIG: JSON.stringify(executorSection()),
        GGJOBS_DEFAULT_HANDLER_DIRECTORY: handlers,
      },
    },
  );
  expect(applied.stderr).toBe('');
  expect(applied).toMatchObject({
    code: 0,
    stdout: `installed 10 handlers into ${handlers} (owned by root)\ninstalled ${RULE} (checked with visudo -cf)\n`,
  });

  js = await startJobsStack();
  await js.createThing(THING, [SITE_GROUP]);
});

async function stopAgent(): Promise<void> {
  if (!agent) return;
  const { child, exited } = agent;
  agent = undefined;
  child.kill('SIGTERM');
  const bound = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(bound);
}

afterEach(stopAgent);

afterAll(async () => {
  await js?.close();
  // executor.sudo false: --apply removes the rule (what a deployment turning the feature off does).
  const off = run(process.execPath, [
    join(ROOT, 'bin/ggjobs.js'),
    'sudoers',
    '--apply',
    '--component',
    COMPONENT,
    '--user',
    AGENT_USER,
    '--executor-json',
    '{"sudo":"false"}',
  ]);
  expect(off).toMatchObject({ code: 0, stdout: `executor.sudo is false: removed ${RULE}\n` });
  expect(existsSync(RULE)).toBe(false);
  if (base) await rm(base, { recursive: true, force: true });
  expect(run('/usr/sbin/visudo', ['-c']).code).toBe(0);
});

/** `ggjobs start` as the unprivileged user, for job `jobId`, with its own state directory. */
async function startAgent(jobId: string, executorPatch: Record<string, unknown> = {}): Promise<void> {
  const work = join(base, `agent-${jobId}`);
  await mkdir(work, { mode: 0o700 });
  await chown(work, agentUser.uid, agentUser.gid);
  const file = join(work, 'ggjobs.yaml');
  // handlerDirectory unset: the agent uses GGJOBS_DEFAULT_HANDLER_DIRECTORY, as the recipe's Run step sets it.
  const { executor: _executor, ...config } = deviceConfig(js, work, handlers, { jobId });
  await writeFile(file, stringify({ ...config, executor: { ...executorSection(), ...executorPatch } }));
  await chmod(file, 0o644);
  const entry = join(base, 'component', 'dist', 'cli', 'ggjobs.mjs');
  const child = spawn(process.execPath, [entry, 'start', '--config', file], {
    cwd: work,
    uid: agentUser.uid,
    gid: agentUser.gid,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      NO_COLOR: '1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      GGJOBS_DEFAULT_HANDLER_DIRECTORY: handlers,
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout.resume();
  agent = { child, stderr: () => stderr, exited: new Promise((r) => child.on('exit', r)) };
}

/** A continuous namespaced job on the seed group; the agent enrolls its own group. */
function createJob(jobId: string, document: object): Promise<void> {
  return createJobWithDocument(js, jobId, document);
}

async function finalExecution(jobId: string) {
  return waitFor(
    async () => {
      const e = await js.execution(jobId);
      return e && ['SUCCEEDED', 'FAILED', 'REJECTED'].includes(String(e.status)) ? e : undefined;
    },
    `the execution of ${jobId} to finish (agent log: ${agent?.stderr().slice(-2000)})`,
    WAIT_MS,
  );
}

describe('the generated sudo rule', () => {
  it('passes visudo -cf, and the whole sudoers configuration still parses', () => {
    expect(run('/usr/sbin/visudo', ['-cf', RULE])).toMatchObject({ code: 0 });
    expect(run('/usr/sbin/visudo', ['-c'])).toMatchObject({ code: 0 });
    const text = readFileSync(RULE, 'utf8');
    expect(text).toContain(
      `${AGENT_USER} ALL = (root) NOPASSWD: GGJOBS_IO_GGJOBS_SYSTEMTEST_HANDLERS, GGJOBS_IO_GGJOBS_SYSTEMTEST_COMMANDS\n`,
    );
  });

  it('is refused for the artifact folder itself, which the component user owns', () => {
    const refused = run(process.execPath, [
      join(ROOT, 'bin/ggjobs.js'),
      'sudoers',
      '--user',
      AGENT_USER,
      '--handler-directory',
      artifact,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `ggjobs: handler directory ${artifact} is owned by uid ${agentUser.uid}; it must be owned by root (else ${AGENT_USER} could add files and run them as root)\n`,
    );
    expect(run('/usr/bin/stat', ['-c', '%U %a', handlers, join(handlers, 'reboot.sh')]).stdout).toBe(
      'root 755\nroot 755\n',
    );
  });

  it('lets the agent user run a shell or a handler outside the directories as root: never', () => {
    const shell = run('/usr/bin/sudo', ['-n', '-u', 'root', '/bin/sh', '-c', 'id -u'], { asAgent: true });
    expect(shell.code).toBe(1);
    expect(shell.stdout).toBe('');
    expect(shell.stderr).toMatch(/password is required|not allowed/);
    const outside = run('/usr/bin/sudo', ['-n', '-u', 'root', '--', join(base, 'elsewhere', 'x.sh')], {
      asAgent: true,
    });
    expect(outside.code).toBe(1);
    expect(outside.stdout).toBe('');
    const asNobody = run('/usr/bin/sudo', ['-n', '-u', 'nobody', '--', join(handlers, 'whoami.sh')], {
      asAgent: true,
    });
    expect(asNobody.code).toBe(1);
    const allowed = run('/usr/bin/sudo', ['-n', '-u', 'root', '--', join(handlers, 'whoami.sh'), 'root'], {
      asAgent: true,
    });
    expect(allowed).toMatchObject({ code: 0 });
    expect(allowed.stdout).toMatch(/^uid=0 /);
  });
});

describe(`ggjobs start as the unprivileged user ${AGENT_USER}`, () => {
  it('runs a runAsUser: root step as root through the rule, passing the GGJOBS_* variables', async () => {
    await createJob('sys-root', {
      version: '1.0',
      includeStdOut: 'true',
      steps: [
        { action: { name: 'Who', type: 'runHandler', input: { handler: 'whoami.sh' }, runAsUser: 'root' } },
      ],
    });
    await startAgent('sys-root');
    const execution = await finalExecution('sys-root');
    expect(execution.status, JSON.stringify(execution.statusDetails)).toBe('SUCCEEDED');
    expect(execution.statusDetails?.detailsMap?.stdout).toBe('uid=0 user=root job=sys-root arg1=[root]');
    // The agent itself really is the unprivileged user.
    const status = readFileSync(`/proc/${agent!.child.pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`\\nUid:\\s+${agentUser.uid}\\s`));
  });

  it('REJECTS a document naming a user outside allowedRunAsUsers', async () => {
    await createJob('sys-reject', {
      version: '1.0',
      steps: [
        { action: { name: 'Who', type: 'runHandler', input: { handler: 'whoami.sh' }, runAsUser: 'nobody' } },
      ],
    });
    await startAgent('sys-reject');
    const execution = await finalExecution('sys-reject');
    expect(execution.status, JSON.stringify(execution.statusDetails)).toBe('REJECTED');
    expect(execution.statusDetails?.detailsMap?.reason).toBe(
      `steps[0].action.runAsUser: runAsUser "nobody" is not allowed on this device; executor.allowedRunAsUsers is [root, ${AGENT_USER}]`,
    );
  });

  it('runs the AWS-Reboot document unchanged (reboot.sh in dry-run mode)', async () => {
    await createJob('sys-reboot', {
      ...(managedTemplateDocuments['AWS-Reboot'] as object),
      includeStdOut: 'true',
    });
    await startAgent('sys-reboot');
    const execution = await finalExecution('sys-reboot');
    expect(execution.status, JSON.stringify(execution.statusDetails)).toBe('SUCCEEDED');
    expect(execution.statusDetails?.detailsMap?.stdout).toMatch(
      /^dry run: would run: (systemctl reboot|shutdown -r now|reboot)$/,
    );
  });

  it('runs the AWS-Install-Application document unchanged (dry run)', async () => {
    await createJob('sys-install', {
      ...(managedTemplateDocuments['AWS-Install-Application'] as object),
      includeStdOut: 'true',
    });
    await startAgent('sys-install');
    const execution = await finalExecution('sys-install');
    expect(execution.status, JSON.stringify(execution.statusDetails)).toBe('SUCCEEDED');
    expect(execution.statusDetails?.detailsMap?.stdout).toBe(
      'dry run: would run: apt-get install -y mosquitto-clients htop',
    );
  });

  it('runs AWS-Remove/Start/Stop/Restart-Application (dry run) and AWS-Run-Command unchanged', async () => {
    const service = (action: string, names: string[]) =>
      new RegExp(
        `^${names.map((n) => `dry run: would run: (systemctl ${action} ${n}|service ${n} ${action}|rc-service ${n} ${action}|/etc/init.d/${n} ${action})`).join('\\s+')}$`,
      );
    const restart = structuredClone(managedTemplateDocuments['AWS-Restart-Application']) as {
      steps: Array<{ action: { input: { path: string } } }>;
    };
    // The fixture names a site directory; the template's own default is the handler directory.
    restart.steps[0]!.action.input.path = 'default';
    const cases: Array<[string, unknown, RegExp]> = [
      [
        'AWS-Remove-Application',
        managedTemplateDocuments['AWS-Remove-Application'],
        /^dry run: would run: apt-get remove -y telnet$/,
      ],
      [
        'AWS-Start-Application',
        managedTemplateDocuments['AWS-Start-Application'],
        service('start', ['sensor-bridge', 'telemetry-uplink']),
      ],
      [
        'AWS-Stop-Application',
        managedTemplateDocuments['AWS-Stop-Application'],
        service('stop', ['telemetry-uplink']),
      ],
      ['AWS-Restart-Application', restart, service('restart', ['sensor-bridge'])],
      ['AWS-Run-Command', managedTemplateDocuments['AWS-Run-Command'], /^$/],
    ];
    for (const [template, document, stdout] of cases) {
      const jobId = `sys-${template.toLowerCase().replace(/^aws-/, '')}`;
      await createJob(jobId, { ...(document as object), includeStdOut: 'true' });
      await startAgent(jobId);
      const execution = await finalExecution(jobId);
      expect(execution.status, `${template}: ${JSON.stringify(execution.statusDetails)}`).toBe('SUCCEEDED');
      expect(execution.statusDetails?.detailsMap?.stdout ?? '', template).toMatch(stdout);
      await stopAgent();
    }
  });

  it('stops a root step that times out, leaving nothing running', async () => {
    const sleeping = () =>
      readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .some((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u00003131\u0000';
          } catch {
            return false;
          }
        });
    await createJob('sys-timeout', {
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Sleep',
            type: 'runHandler',
            input: { handler: 'sleeper.sh' },
            runAsUser: 'root',
            timeoutSeconds: 2,
          },
        },
      ],
    });
    await startAgent('sys-timeout');
    await waitFor(sleeping, 'the step to be running as root', WAIT_MS);
    const execution = await finalExecution('sys-timeout');
    expect(execution.status).toBe('FAILED');
    expect(execution.statusDetails?.detailsMap?.reason).toBe('step "Sleep" timed out after 2s');
    await waitFor(() => !sleeping(), 'the root sleep to be gone', 15_000);
  });

  it('FAILS a step the rule does not cover, saying which rule to fix', async () => {
    await createJob('sys-uncovered', {
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Elsewhere',
            type: 'runHandler',
            input: { handler: 'x.sh', path: join(base, 'elsewhere') },
            runAsUser: 'root',
          },
        },
      ],
    });
    // The agent's configuration lists the directory, but the rule was generated without it (the
    // operator changed the configuration without a deployment): sudo is what refuses.
    await startAgent('sys-uncovered', { handlerDirectories: [handlers, join(base, 'elsewhere')] });
    const execution = await finalExecution('sys-uncovered');
    expect(execution.status).not.toBe('SUCCEEDED');
    expect(execution.statusDetails?.detailsMap?.reason).toMatch(
      new RegExp(`sudo does not allow "${AGENT_USER}" to run ${join(base, 'elsewhere', 'x.sh')} as "root"`),
    );
  });
});
