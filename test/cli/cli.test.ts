// The command itself: version, help, usage errors. Parsing is the same in-process (main()) as in the
// installed binary, so only the first test starts a process, to prove bin/ggjobs.js runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ggjobsInProcess } from './in-process.js';
import { ROOT, runCli } from './run-cli.js';

describe('ggjobs', () => {
  it('prints the version from package.json with --version (installed command)', async () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('lists its commands with --help', async () => {
    const run = await ggjobsInProcess('--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: ggjobs/);
    for (const command of ['local', 'enroll', 'start', 'status', 'config', 'doctor'])
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(run.stdout).toContain('--log-format <format>');
  });

  it('shows the help and exits 2 without a command', async () => {
    const run = await ggjobsInProcess();
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Usage: ggjobs/);
  });

  it('exits 2 with a clear message for an unknown command', async () => {
    const run = await ggjobsInProcess('nosuch');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'nosuch'");
  });

  it('exits 2 with a clear message for an unknown option', async () => {
    const run = await ggjobsInProcess('local', '--no-such-flag');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--no-such-flag'");
  });
});
