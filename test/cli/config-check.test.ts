// `ggjobs config check` as a technician runs it: the effective configuration with the source of each
// key (default, Greengrass, file, env var, flag), secrets hidden, exit 0 valid / 2 invalid.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startIpcFixture } from '../greengrass/helpers.js';
import { ggjobsInProcess } from './in-process.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ggjobs-config-check-'));
  // Only what each test sets: nothing from the runner's environment leaks into the sources.
  for (const name of Object.keys(process.env)) {
    if (/^(GGJOBS_|AWS_)/.test(name) && name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED')
      vi.stubEnv(name, undefined);
  }
  vi.stubEnv('SVCUID', undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function configFile(text: string): Promise<string> {
  const file = join(dir, 'ggjobs.yaml');
  await writeFile(file, text);
  return file;
}

const VALID = [
  'thingName: core-1',
  'region: eu-west-1',
  'jobId: site-maintenance',
  'namespaceId: acme-ops',
  'transport:',
  '  kind: mqtt',
  '  url: mqtt://127.0.0.1:1883',
  '  username: tech',
  '  password: SECRETpw123',
  'executor:',
  '  environment:',
  '    HTTP_PROXY: http://user:SECRETproxy@proxy:3128',
].join('\n');

function row(stdout: string, key: string): string {
  return stdout.split('\n').find((l) => l.startsWith(`${key} `)) ?? `(no line for ${key})`;
}

describe('ggjobs config check', () => {
  it('prints every setting with its source and hides secrets', async () => {
    const file = await configFile(VALID);
    vi.stubEnv('GGJOBS_JOB_ID', 'from-env');
    const run = await ggjobsInProcess('config', 'check', '--config', file);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('configuration valid for ggjobs start');
    expect(row(run.stdout, 'thingName')).toMatch(/^thingName\s+"core-1"\s+config file .*ggjobs\.yaml$/);
    expect(row(run.stdout, 'jobId')).toMatch(/^jobId\s+"from-env"\s+env GGJOBS_JOB_ID$/);
    expect(row(run.stdout, 'logLevel')).toMatch(/^logLevel\s+"info"\s+default$/);
    expect(row(run.stdout, 'enroll.retry.maxAttempts')).toMatch(/\s8\s+default$/);
    expect(row(run.stdout, 'transport.password')).toMatch(/\(value hidden\)\s+config file/);
    expect(row(run.stdout, 'executor.environment.HTTP_PROXY')).toMatch(/\(value hidden\)/);
    expect(run.stdout).not.toContain('SECRET');
  });

  it('hides a password given inside the broker URL, in the table, in --json and in errors', async () => {
    const withUrlPassword = VALID.replace('mqtt://127.0.0.1:1883', 'mqtt://tech:SECRETinurl@127.0.0.1:1883');
    const file = await configFile(withUrlPassword);
    const run = await ggjobsInProcess('config', 'check', '--config', file);
    expect(run.code).toBe(0);
    expect(row(run.stdout, 'transport.url')).toMatch(
      /^transport\.url\s+"mqtt:\/\/127\.0\.0\.1:1883"\s+config file/,
    );
    const json = await ggjobsInProcess('config', 'check', '--config', file, '--json');
    expect(json.stdout).toContain('"mqtt://127.0.0.1:1883"');
    await writeFile(
      file,
      `${withUrlPassword}\nlogLevel: loud\n`.replace('kind: mqtt', 'kind: mqtt\n  keepaliveSeconds: -1'),
    );
    const invalid = await ggjobsInProcess('config', 'check', '--config', file);
    expect(invalid.code).toBe(2);
    for (const out of [run.stdout, json.stdout, invalid.stdout, invalid.stderr])
      expect(out).not.toContain('SECRET');
  });

  it('prints JSON with --json', async () => {
    const file = await configFile(VALID);
    vi.stubEnv('AWS_REGION', 'us-west-2');
    const run = await ggjobsInProcess('config', 'check', '--config', file, '--json');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('SECRET');
    const out = JSON.parse(run.stdout) as {
      valid: boolean;
      settings: Array<{ key: string; value: unknown; source: string }>;
    };
    expect(out.valid).toBe(true);
    const byKey = new Map(out.settings.map((s) => [s.key, s]));
    // The file beats the region Greengrass/AWS tooling sets in the environment.
    expect(byKey.get('region')).toEqual({ key: 'region', value: 'eu-west-1', source: `config file ${file}` });
    expect(byKey.get('transport.password')?.value).toBe('(value hidden)');
    expect(byKey.get('listen.requestTimeoutMs')).toEqual({
      key: 'listen.requestTimeoutMs',
      value: 10000,
      source: 'default',
    });
  });

  it('names the env variable of a default the environment supplies', async () => {
    vi.stubEnv('AWS_IOT_THING_NAME', 'gg-core');
    vi.stubEnv('AWS_REGION', 'us-east-2');
    vi.stubEnv('GGJOBS_MQTT_URL', 'mqtt://127.0.0.1:1884');
    const file = await configFile('jobId: site-maintenance\nnamespaceId: acme-ops\n');
    const run = await ggjobsInProcess('config', 'check', '--config', file);
    expect(run.code, run.stdout).toBe(0);
    expect(row(run.stdout, 'thingName')).toMatch(/"gg-core"\s+env AWS_IOT_THING_NAME$/);
    expect(row(run.stdout, 'region')).toMatch(/"us-east-2"\s+env AWS_REGION$/);
    expect(row(run.stdout, 'transport.url')).toMatch(/env GGJOBS_MQTT_URL$/);
  });

  it('shows what came from the Greengrass component configuration', async () => {
    const ipc = await startIpcFixture({
      configuration: { jobId: 'gg-job', namespaceId: 'gg-ns', accessControl: { x: {} } },
    });
    try {
      vi.stubEnv('AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT', ipc.socketPath);
      vi.stubEnv('SVCUID', ipc.svcuid);
      vi.stubEnv('AWS_IOT_THING_NAME', 'gg-core');
      vi.stubEnv('AWS_REGION', 'us-east-1');
      const run = await ggjobsInProcess('config', 'check');
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(row(run.stdout, 'jobId')).toMatch(/"gg-job"\s+Greengrass component configuration$/);
      expect(row(run.stdout, 'transport.kind')).toMatch(
        /"greengrass-ipc"\s+env AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT$/,
      );
    } finally {
      await ipc.close();
    }
  });

  it('exits 2 listing every problem; --for validates for one command', async () => {
    const file = await configFile(
      'thingName: core-1\nregion: us-east-1\njobId: x y\nnamespaceId: ops\nlogLevl: info\n',
    );
    const run = await ggjobsInProcess('config', 'check', '--config', file);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('configuration invalid for ggjobs start:');
    expect(run.stdout).toContain('  jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-]');
    expect(run.stdout).toContain('  logLevl: unknown key (did you mean logLevel?)');
    expect(run.stdout).toContain('  transport: required');

    await writeFile(file, 'thingName: core-1\nregion: us-east-1\njobId: job-1\nnamespaceId: ops\n');
    expect((await ggjobsInProcess('config', 'check', '--config', file)).code).toBe(2);
    const forEnroll = await ggjobsInProcess('config', 'check', '--config', file, '--for', 'enroll', '--json');
    expect(forEnroll.code).toBe(0);
    expect(JSON.parse(forEnroll.stdout)).toMatchObject({ valid: true, command: 'ggjobs enroll' });

    const bad = await ggjobsInProcess('config', 'check', '--for', 'dance');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--for "dance": must be one of start, enroll, status');
  });

  it('exits 2 naming a config file that cannot be read', async () => {
    const run = await ggjobsInProcess('config', 'check', '--config', join(dir, 'missing.yaml'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('missing.yaml: file not found');
  });
});
