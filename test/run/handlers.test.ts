// The sample handlers in handlers/. Package and service managers are replaced by recording fakes
// placed first on PATH, and reboot.sh only ever runs in dry-run mode, so nothing here changes the
// machine.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SAFE_PATH } from '../../src/run/environment.js';
import { bundledHandlerDirectory } from '../../src/run/handler-resolution.js';
import { createJobRunner } from '../../src/run/runner.js';
import { managedTemplateDocuments } from './fixtures/documents.js';
import { cleanup, executorConfig, makeTempDir, recordingContext, statusOf, writeHandler } from './helpers.js';

const HANDLERS = [
  'echo.sh',
  'download-file.sh',
  'install-packages.sh',
  'remove-packages.sh',
  'start-services.sh',
  'stop-services.sh',
  'restart-services.sh',
  'reboot.sh',
];
const FAKE_TOOLS = [
  'apt-get',
  'dnf',
  'yum',
  'apk',
  'systemctl',
  'service',
  'rc-service',
  'shutdown',
  'reboot',
];

let fakeBin: string;
let toolLog: string;

beforeEach(async () => {
  fakeBin = await makeTempDir(0o755, 'ggjobs-fakebin-');
  toolLog = join(fakeBin, 'calls.log');
  for (const tool of FAKE_TOOLS)
    await writeHandler(fakeBin, tool, `echo "${tool} $*" >> '${toolLog}'`, 0o755);
});

afterEach(cleanup);

async function toolCalls(): Promise<string[]> {
  return existsSync(toolLog) ? (await readFile(toolLog, 'utf8')).trim().split('\n') : [];
}

function runDirect(
  handler: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      join(bundledHandlerDirectory(), handler),
      args,
      { env: { PATH: `${fakeBin}:${SAFE_PATH}`, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A private copy of handlers/ (mode 0700), as an operator would install it. */
async function installedHandlers(): Promise<string> {
  const dir = await makeTempDir(0o700, 'ggjobs-installed-');
  for (const name of HANDLERS) await copyFile(join(bundledHandlerDirectory(), name), join(dir, name));
  return dir;
}

describe('handler files', () => {
  it.each(HANDLERS)('%s is an executable POSIX sh script with a usage comment', async (name) => {
    const file = join(bundledHandlerDirectory(), name);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toMatch(/^# Usage: {2,}\S+/m);
    expect((await stat(file)).mode & 0o111).toBe(0o111);
  });

  it('ships exactly these handlers', async () => {
    expect((await readdir(bundledHandlerDirectory())).sort()).toEqual([...HANDLERS].sort());
  });
});

describe('dry run (GGJOBS_DRY_RUN=1 or --dry-run) changes nothing', () => {
  it.each<[string, string[], string]>([
    ['install-packages.sh', ['root', 'curl jq'], 'dry run: would run: apt-get install -y curl jq'],
    ['remove-packages.sh', ['root', 'telnet'], 'dry run: would run: apt-get remove -y telnet'],
    ['start-services.sh', ['root', 'nginx cron'], 'would run: '],
    ['stop-services.sh', ['root', 'nginx'], 'would run: '],
    ['restart-services.sh', ['root', 'nginx'], 'would run: '],
    ['reboot.sh', ['root'], 'dry run: would run: '],
    [
      'download-file.sh',
      ['root', 'https://example.com/a?sig=x', '/tmp/never-written'],
      'dry run: would download https://example.com/a?... to /tmp/never-written',
    ],
  ])('%s', async (handler, args, expected) => {
    for (const [extraArgs, env] of [
      [['--dry-run'], {}],
      [[], { GGJOBS_DRY_RUN: '1' }],
    ] as const) {
      const result = await runDirect(handler, [...args, ...extraArgs], env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(expected);
    }
    expect(await toolCalls()).toEqual([]);
    expect(existsSync('/tmp/never-written')).toBe(false);
  });

  it('names one service-manager command per service', async () => {
    const result = await runDirect('restart-services.sh', ['root', 'nginx  cron', 'ssh', '--dry-run']);
    expect(result.stdout.trim().split('\n')).toHaveLength(3);
  });
});

describe('running for real against fake package and service managers', () => {
  it('install-packages.sh splits the space-separated list into package arguments', async () => {
    const result = await runDirect('install-packages.sh', ['root', 'curl jq', 'htop']);
    expect(result.code, result.stderr).toBe(0);
    expect(await toolCalls()).toEqual(['apt-get install -y curl jq htop']);
  });

  it('restart-services.sh restarts every service and fails if one fails', async () => {
    await writeFile(
      join(fakeBin, 'service'),
      `#!/bin/sh\necho "service $*" >> '${toolLog}'\n[ "$1" != broken ]\n`,
    );
    const result = await runDirect('restart-services.sh', ['root', 'a broken b']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('broken restart failed');
    const calls = await toolCalls();
    expect(calls.map((c) => c.replace(/^systemctl restart (\S+)$/, 'service $1 restart'))).toEqual([
      'service a restart',
      'service broken restart',
      'service b restart',
    ]);
  });

  it.each(['install-packages.sh', 'remove-packages.sh', 'stop-services.sh'])(
    '%s refuses names that look like options',
    async (handler) => {
      const result = await runDirect(handler, ['root', 'ok -o Dpkg::Options::=--force-all', '--dry-run']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('"-o" is not a');
      expect(await toolCalls()).toEqual([]);
    },
  );

  it('refuses to run without any name', async () => {
    expect((await runDirect('install-packages.sh', ['root'])).code).toBe(2);
    expect((await runDirect('start-services.sh', ['root', '  '])).code).toBe(2);
  });

  it('echo.sh prints its arguments after runAsUser', async () => {
    expect(await runDirect('echo.sh', ['', 'hello', 'big world'])).toEqual({
      code: 0,
      stdout: 'hello big world\n',
      stderr: '',
    });
  });

  it('download-file.sh copies a file: URL, checks the digest and leaves nothing on mismatch', async () => {
    const dir = await makeTempDir();
    const source = join(dir, 'source.bin');
    await writeFile(source, 'firmware bytes');
    const sha = createHash('sha256').update('firmware bytes').digest('hex');
    const url = pathToFileURL(source).href;
    const target = await makeTempDir(0o755, 'ggjobs-target-');

    const good = await runDirect('download-file.sh', [
      'root',
      url,
      join(target, 'fw.bin'),
      sha.toUpperCase(),
    ]);
    expect(good.code, good.stderr).toBe(0);
    expect(await readFile(join(target, 'fw.bin'), 'utf8')).toBe('firmware bytes');

    const bad = await runDirect('download-file.sh', ['root', url, join(target, 'bad.bin'), '0'.repeat(64)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`sha256 mismatch for ${url}`);
    expect((await readdir(target)).sort()).toEqual(['fw.bin']);
  });
});

describe('the managed templates run the sample handlers through the executor', () => {
  it.each(Object.keys(managedTemplateDocuments).filter((name) => name !== 'AWS-Run-Command'))(
    '%s succeeds in dry-run mode',
    async (template) => {
      const handlerDirectory = await installedHandlers();
      const run = createJobRunner(
        executorConfig({
          handlerDirectory,
          environment: { GGJOBS_DRY_RUN: '1', PATH: `${fakeBin}:${SAFE_PATH}` },
        }),
      );
      const document = structuredClone(managedTemplateDocuments[template]) as {
        includeStdOut?: boolean;
        steps: Array<{ action: { input: { path?: string; args?: string[] } } }>;
      };
      document.includeStdOut = true;
      for (const s of document.steps) {
        // AWS-Restart-Application names another directory; point it at the installed copy.
        if (s.action.input.path?.startsWith('/')) s.action.input.path = handlerDirectory;
        s.action.input.args = [...(s.action.input.args ?? []), '--dry-run'];
      }
      const outcome = await run(document, recordingContext().context);
      expect(statusOf(outcome)).toBe('SUCCEEDED: the step succeeded');
      expect(outcome.statusDetails.stdout).toContain('dry run: would');
      expect(await toolCalls()).toEqual([]);
    },
  );
});
