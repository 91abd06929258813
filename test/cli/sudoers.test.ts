// `ggjobs sudoers` as an operator (or the recipe's Install step) runs it. Installing through visudo
// is covered by test/system/ (it needs sudo); here: printing, refusing, removing, and the exit codes.
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let base: string;
let handlers: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'ggjobs-cli-sudoers-')));
  await chmod(base, 0o755);
  handlers = join(base, 'handlers');
  await mkdir(handlers, { mode: 0o755 });
  await chmod(handlers, 0o755);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('ggjobs sudoers', () => {
  it('prints the rule for the handler directory and the component user', async () => {
    const run = await runCli(['sudoers', '--user', 'nobody', '--handler-directory', handlers]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^# \/etc\/sudoers\.d\/ggjobs-io_ggjobs_JobsAgent: written by/);
    expect(run.stdout).toContain(`Cmnd_Alias GGJOBS_IO_GGJOBS_JOBSAGENT_HANDLERS = ${handlers}/*\n`);
    expect(run.stdout).toContain('nobody ALL = (root) NOPASSWD: GGJOBS_IO_GGJOBS_JOBSAGENT_HANDLERS\n');
  });

  it('takes the user from the owner of the work folder and the executor section from a config file', async () => {
    const work = join(base, 'work');
    await mkdir(work);
    await chown(work, 65_534, 65_534);
    const config = join(base, 'ggjobs.yaml');
    await writeFile(
      config,
      `executor:\n  handlerDirectory: ${handlers}\n  allowedRunAsUsers: [root, nobody]\n`,
    );
    const run = await runCli([
      'sudoers',
      '--user-of',
      work,
      '--config',
      config,
      '--component',
      'com.acme.Jobs',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('nobody ALL = (root) NOPASSWD: GGJOBS_COM_ACME_JOBS_HANDLERS\n');
  });

  it('exits 1 without writing anything when the component user could change a handler directory', async () => {
    await chmod(handlers, 0o777);
    const target = join(base, 'sudoers.d');
    await mkdir(target);
    const run = await runCli([
      'sudoers',
      '--apply',
      '--directory',
      target,
      '--user',
      'nobody',
      '--handler-directory',
      handlers,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `ggjobs: handler directory ${handlers} is mode 0777; it must not be writable by group or others (else nobody could add files and run them as root)\n`,
    );
    expect(existsSync(join(target, 'ggjobs-io_ggjobs_JobsAgent'))).toBe(false);
  });

  it('exits 2 naming the key for a bad executor configuration', async () => {
    const bad = await runCli([
      'sudoers',
      '--user',
      'nobody',
      '--executor-json',
      '{"allowedRunAsUsers":["a b"]}',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('executor.allowedRunAsUsers.0: must be a user name');
    const notJson = await runCli(['sudoers', '--user', 'nobody', '--executor-json', '{allowed']);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toBe(
      'ggjobs: --executor-json: must be the executor configuration as a JSON object\n',
    );
  });

  it('--apply with executor.sudo false removes the rule; --apply without sudo installed changes nothing', async () => {
    const target = join(base, 'sudoers.d');
    await mkdir(target);
    const file = join(target, 'ggjobs-io_ggjobs_JobsAgent');
    await writeFile(file, '# old rule\n');
    const off = await runCli([
      'sudoers',
      '--apply',
      '--directory',
      target,
      '--executor-json',
      '{"sudo":"false"}',
    ]);
    expect(off).toMatchObject({ code: 0, stdout: `executor.sudo is false: removed ${file}\n` });
    expect(existsSync(file)).toBe(false);

    const missing = join(base, 'no-sudoers.d');
    const skipped = await runCli([
      'sudoers',
      '--apply',
      '--directory',
      missing,
      '--user',
      'nobody',
      '--handler-directory',
      handlers,
    ]);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toMatch(
      /^ggjobs sudoers: sudo is not installed \(no .*no-sudoers\.d or no visudo\)/,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('asks for the user when root runs it without one', async () => {
    const run = await runCli(['sudoers', '--handler-directory', handlers]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('ggjobs: name the user the agent runs as with --user NAME or --user-of PATH\n');
    const copy = await runCli(['sudoers', '--user', 'nobody', '--install-handlers', handlers]);
    expect(copy.code).toBe(2);
    expect(copy.stderr).toBe('ggjobs: --install-handlers goes with --apply\n');
  });
});
