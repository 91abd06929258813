// A non-root agent (ggc_user, as under Greengrass) runs a runAsUser: root step through sudo. A recording
// stand-in for sudo shows exactly what ggjobs asks of sudo: first `-n -l -u USER -- FILE ARGS` (may
// I?), then `-n -u USER --preserve-env=GGJOBS_... -- FILE ARGS` with the scrubbed step environment.
// The real sudo with the generated rule is exercised by test/system/ (npm run test:system).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { commandToSpawn } from '../../src/run/spawn.js';
import { SUDO_PRESERVED_VARIABLES, sudoInvocation } from '../../src/run/sudo.js';
import type { UserAccount } from '../../src/run/users.js';
import { managedTemplateDocuments } from './fixtures/documents.js';
import {
  handlerDocument,
  jobRunner,
  makeTempDir,
  recordingContext,
  statusOf,
  writeHandler,
} from './helpers.js';

const ggc: UserAccount = { name: 'ggc_user', uid: 1000, gid: 1000, home: '/home/ggc_user' };

let bin: string;
let calls: string;
let envLog: string;
let sudo: string;

beforeEach(async () => {
  bin = await makeTempDir(0o755, 'ggjobs-fakesudo-');
  calls = join(bin, 'calls.log');
  envLog = join(bin, 'env.log');
  // `-l` answers from the REFUSE file (like sudo: exit 1 and a message); otherwise it runs what follows `--`.
  sudo = await writeHandler(
    bin,
    'sudo',
    `printf '%s\\n' "$*" >> '${calls}'
if [ "$2" = -l ]; then
  if [ -e '${bin}/REFUSE' ]; then echo 'sudo: a password is required' >&2; exit 1; fi
  exit 0
fi
if [ -e '${bin}/ENVREFUSE' ]; then echo 'sudo: sorry, you are not allowed to set the following environment variables: GGJOBS_JOB_ID' >&2; exit 1; fi
env | sort > '${envLog}'
while [ "$1" != -- ]; do shift; done
shift
exec "$@"`,
    0o755,
  );
});

function componentRunner(
  overrides: Record<string, unknown>,
  findSudo = async () => sudo as string | undefined,
) {
  return jobRunner(overrides, { agent: ggc, underGreengrass: true, findSudo, agentLang: 'C.UTF-8' });
}

describe('a non-root agent running a step as root through sudo', () => {
  it('asks sudo first, then runs the handler through sudo -n -u root with only the GGJOBS_* variables kept', async () => {
    const dir = await makeTempDir(0o755);
    const handler = await writeHandler(dir, 'args.sh', `printf '[%s]' "$@"`, 0o755);
    const run = componentRunner({ handlerDirectory: dir, environment: { http_proxy: 'http://proxy:3128' } });
    const doc = {
      ...handlerDocument('args.sh', ['a b', '--x'], { runAsUser: 'root' }),
      includeStdOut: 'true',
    };
    const outcome = await run(doc, recordingContext().context);
    expect(statusOf(outcome)).toBe('SUCCEEDED: the step succeeded');
    expect(outcome.statusDetails.stdout).toBe('[root][a b][--x]');
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual([
      `-n -l -u root -- ${handler} root a b --x`,
      `-n -u root --preserve-env=GGJOBS_JOB_ID,GGJOBS_EXECUTION_NUMBER,GGJOBS_THING_NAME,GGJOBS_NAMESPACE_ID -- ${handler} root a b --x`,
    ]);
    // sudo itself gets the scrubbed step environment, never the agent's (sudo then resets it again).
    const env = (await readFile(envLog, 'utf8')).split('\n').filter((l) => /^[A-Za-z_]+=/.test(l));
    const names = env.map((l) => l.slice(0, l.indexOf('=')));
    expect(names).toEqual(
      expect.arrayContaining(['GGJOBS_JOB_ID', 'HOME', 'LANG', 'LOGNAME', 'PATH', 'USER', 'http_proxy']),
    );
    expect(env).toContain('USER=root');
    expect(names.filter((n) => /AWS|SVCUID/.test(n))).toEqual([]);
  });

  it('runs the AWS-Reboot and AWS-Install-Application documents unchanged (dry run)', async () => {
    const dir = await makeTempDir(0o755);
    for (const name of ['reboot.sh', 'install-packages.sh']) {
      const source = await readFile(join(process.cwd(), 'handlers', name), 'utf8');
      await writeHandler(dir, name, source.replace(/^#!\/bin\/sh\n/, ''), 0o755);
    }
    const run = componentRunner({ handlerDirectory: dir, environment: { GGJOBS_DRY_RUN: '1' } });
    for (const template of ['AWS-Reboot', 'AWS-Install-Application']) {
      const doc = { ...(managedTemplateDocuments[template] as object), includeStdOut: 'true' };
      const outcome = await run(doc, recordingContext().context);
      expect(outcome.status, template).toBe('SUCCEEDED');
      expect(outcome.statusDetails.stdout, template).toMatch(/^dry run: would run: /);
    }
    const log = await readFile(calls, 'utf8');
    expect(log).toContain(
      `-n -u root --preserve-env=GGJOBS_JOB_ID,GGJOBS_EXECUTION_NUMBER,GGJOBS_THING_NAME,GGJOBS_NAMESPACE_ID,GGJOBS_DRY_RUN -- ${dir}/reboot.sh root`,
    );
    expect(log).toContain(`-- ${dir}/install-packages.sh root mosquitto-clients htop`);
  });

  it('FAILS the step, saying which rule to fix, when sudo does not allow it; nothing runs', async () => {
    const dir = await makeTempDir(0o755);
    const marker = join(dir, 'ran');
    const handler = await writeHandler(dir, 'x.sh', `touch '${marker}'`, 0o755);
    await writeHandler(bin, 'REFUSE', '');
    const run = componentRunner({ handlerDirectory: dir });
    const outcome = await run(
      handlerDocument('x.sh', [], { runAsUser: 'root', ignoreStepFailure: 'true' }),
      recordingContext().context,
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.statusDetails.reason).toBe(
      `step "Run": sudo does not allow "ggc_user" to run ${handler} as "root" (sudo: a password is required); ` +
        'the rule in /etc/sudoers.d/ggjobs-* is missing or older than the configuration: redeploy the component ' +
        '(its Install step regenerates it from executor.allowedRunAsUsers, handlerDirectories and allowedCommands) ' +
        'or run `ggjobs sudoers --apply` as root',
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('says so when sudo refuses at run time although -l allowed it (a rule without env_keep)', async () => {
    const dir = await makeTempDir(0o755);
    const handler = await writeHandler(dir, 'x.sh', 'exit 0', 0o755);
    await writeHandler(bin, 'ENVREFUSE', '');
    const run = componentRunner({ handlerDirectory: dir });
    const outcome = await run(handlerDocument('x.sh', [], { runAsUser: 'root' }), recordingContext().context);
    expect(outcome.status).toBe('FAILED');
    expect(outcome.statusDetails.reason).toMatch(
      new RegExp(
        `^step "Run": sudo does not allow "ggc_user" to run ${handler} as "root" \\(sudo: sorry, you are not allowed to set the following environment variables: GGJOBS_JOB_ID\\); the rule in /etc/sudoers.d/ggjobs-\\* is missing or older`,
      ),
    );
  });

  it('FAILS the step saying that sudo is missing and how to fix it', async () => {
    const dir = await makeTempDir(0o755);
    await writeHandler(dir, 'x.sh', 'exit 0', 0o755);
    const run = componentRunner({ handlerDirectory: dir }, async () => undefined);
    const outcome = await run(handlerDocument('x.sh', [], { runAsUser: 'root' }), recordingContext().context);
    expect(statusOf(outcome)).toBe(
      'FAILED: step "Run": runAsUser "root" needs sudo (ggjobs runs as "ggc_user"), and sudo is not installed; ' +
        'install it (e.g. apt-get install sudo) and redeploy the component so its Install step writes the rule in ' +
        '/etc/sudoers.d (README "Privilege separation"), or run the component as root',
    );
  });

  it('refuses with executor.sudo false, and never uses sudo for its own user', async () => {
    const dir = await makeTempDir(0o755);
    await writeHandler(dir, 'x.sh', 'exit 0', 0o755);
    const noSudo = componentRunner({ handlerDirectory: dir, sudo: 'false' });
    expect(
      statusOf(await noSudo(handlerDocument('x.sh', [], { runAsUser: 'root' }), recordingContext().context)),
    ).toBe(
      'FAILED: step "Run": runAsUser "root" needs ggjobs to run as root or executor.sudo to be true; it runs as "ggc_user" (uid 1000) with executor.sudo false',
    );
    const run = componentRunner({ handlerDirectory: dir });
    for (const runAsUser of ['', 'ggc_user'])
      expect((await run(handlerDocument('x.sh', [], { runAsUser }), recordingContext().context)).status).toBe(
        'SUCCEEDED',
      );
    expect(existsSync(calls)).toBe(false);
  });

  it('runs an allowed runCommand through sudo by its absolute path', async () => {
    const run = componentRunner({ allowedCommands: ['echo'] });
    const doc = {
      version: '1.0',
      includeStdOut: 'true',
      steps: [
        { action: { name: 'Say', type: 'runCommand', input: { command: 'echo,hi' }, runAsUser: 'root' } },
      ],
    };
    const outcome = await run(doc, recordingContext().context);
    expect(statusOf(outcome)).toBe('SUCCEEDED: the step succeeded');
    expect(outcome.statusDetails.stdout).toBe('hi\n');
    expect(await readFile(calls, 'utf8')).toMatch(
      /^-n -l -u root -- \/\S+\/echo hi\n-n -u root .* -- \/\S+\/echo hi\n$/,
    );
  });

  it('refuses a download step as another user instead of writing the file as the agent', async () => {
    // The destination is inside the download directories, so only the run-as rule refuses it.
    const run = componentRunner({ downloadDirectories: ['/tmp'] });
    const doc = {
      version: '1.0',
      steps: [
        {
          action: {
            name: 'Fetch',
            type: 'download',
            input: { url: 'http://127.0.0.1:9/x', sha256: 'a'.repeat(64), destination: '/tmp/ggjobs-never' },
            runAsUser: 'root',
          },
        },
      ],
    };
    const outcome = await run(doc, recordingContext().context);
    expect(outcome.status).toBe('FAILED');
    expect(outcome.statusDetails.reason).toMatch(
      /^step "Fetch": a download step cannot write a file as runAsUser "root" when ggjobs runs as "ggc_user"/,
    );
  });
});

describe('the command that gets spawned', () => {
  it('is the file itself without sudo, and sudo with the kept variables otherwise', () => {
    const env = { PATH: '/bin', GGJOBS_JOB_ID: 'j', GGJOBS_DRY_RUN: '1', SECRET: 'x' };
    expect(commandToSpawn({ file: '/h/x.sh', args: ['root', 'a'], env })).toEqual({
      file: '/h/x.sh',
      args: ['root', 'a'],
    });
    expect(
      commandToSpawn({
        file: '/h/x.sh',
        args: ['root', 'a'],
        env,
        sudo: { path: '/usr/bin/sudo', user: 'root' },
      }),
    ).toEqual({
      file: '/usr/bin/sudo',
      args: ['-n', '-u', 'root', '--preserve-env=GGJOBS_JOB_ID,GGJOBS_DRY_RUN', '--', '/h/x.sh', 'root', 'a'],
    });
    expect(sudoInvocation('/usr/bin/sudo', 'svc', '/h/y', ['-n'], {}).args).toEqual([
      '-n',
      '-u',
      'svc',
      '--',
      '/h/y',
      '-n',
    ]);
    expect(SUDO_PRESERVED_VARIABLES.every((name) => name.startsWith('GGJOBS_'))).toBe(true);
  });
});
