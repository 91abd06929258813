import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './run-cli.js';

describe('ggjobs', () => {
  it('prints the version from package.json with --version', async () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('lists its commands with --help', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: ggjobs/);
    expect(run.stdout).toMatch(/^\s+local\b/m);
  });

  it('shows the help and exits 2 without a command', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/Usage: ggjobs/);
  });

  it('exits 2 with a clear message for an unknown command', async () => {
    const run = await runCli(['nosuch']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'nosuch'");
  });

  it('exits 2 with a clear message for an unknown option', async () => {
    const run = await runCli(['local', '--no-such-flag']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--no-such-flag'");
  });
});
