// Each command asks only for what it uses: the smallest configuration each command accepts, and the
// error for each key it needs when that key is missing. Keys a command does not need are still
// checked when set (unknown keys, bad values).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigPurpose } from '../../src/config/command-schemas.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigInvalidError } from '../../src/errors.js';

const ids = { thingName: 'core-1', region: 'us-east-1', jobId: 'site-maintenance', namespaceId: 'acme-ops' };
const transport = { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' };

const SMALLEST: Record<ConfigPurpose, Record<string, unknown>> = {
  start: { ...ids, transport },
  enroll: { ...ids },
  status: {},
};

const REQUIRED: Record<ConfigPurpose, string[]> = {
  start: ['thingName', 'region', 'jobId', 'namespaceId', 'transport'],
  enroll: ['thingName', 'region', 'jobId', 'namespaceId'],
  status: [],
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ggjobs-purpose-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(purpose: ConfigPurpose, content: Record<string, unknown>) {
  const configFile = join(dir, 'ggjobs.json');
  await writeFile(configFile, JSON.stringify(content));
  return loadConfig({ purpose, configFile, env: {} });
}

async function problems(purpose: ConfigPurpose, content: Record<string, unknown>): Promise<string[]> {
  const err = await load(purpose, content).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigInvalidError);
  return (err as Error).message.split('\n');
}

describe.each(['start', 'enroll', 'status'] as const)('configuration for ggjobs %s', (purpose) => {
  it('accepts the smallest configuration and fills in the defaults', async () => {
    const config = await load(purpose, SMALLEST[purpose]);
    expect(config).toMatchObject({ ...SMALLEST[purpose], stateDirectory: 'state', logLevel: 'info' });
    expect(config.enroll.retry.maxAttempts).toBe(8);
  });

  it.each(REQUIRED[purpose].length > 0 ? REQUIRED[purpose] : ['(none)'])(
    'names %s when it is missing',
    async (key) => {
      if (key === '(none)') {
        // Nothing is required: even an empty file works, the state directory defaults to ./state.
        await expect(load(purpose, {})).resolves.toMatchObject({ stateDirectory: 'state' });
        return;
      }
      const { [key]: _dropped, ...rest } = SMALLEST[purpose];
      const lines = await problems(purpose, rest);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${key}: required \\(`));
    },
  );

  it('still reports unknown keys and bad values anywhere in the file', async () => {
    const lines = await problems(purpose, {
      ...SMALLEST[purpose],
      transport: { kind: 'mqtt', url: 'http://wrong' },
      executor: { killGraceSecs: 3 },
      listen: { requestTimeoutMs: 5 },
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^transport\.url "http:\/\/wrong": must be a URL \(mqtt, mqtts\)/),
        expect.stringMatching(/^executor\.killGraceSecs: unknown key \(did you mean killGraceSeconds\?\)/),
        expect.stringMatching(/^listen\.requestTimeoutMs 5: must be a whole number from 100 to 300000/),
      ]),
    );
  });
});

describe('what each command leaves out', () => {
  it('enroll never asks for a transport or an executor', async () => {
    const config = await load('enroll', { ...ids, enroll: { thingGroupName: 'site-a' } });
    expect(config.transport).toBeUndefined();
    expect(config.enroll.thingGroupName).toBe('site-a');
  });

  it('enroll still checks the enroll settings', async () => {
    const lines = await problems('enroll', { ...ids, enroll: { endpoint: 'not a url' } });
    expect(lines).toEqual([expect.stringMatching(/^enroll\.endpoint "not a url": must be a URL/)]);
  });

  it('status takes the state directory from flags over env over file', async () => {
    const configFile = join(dir, 'ggjobs.json');
    await writeFile(configFile, JSON.stringify({ stateDirectory: '/from/file' }));
    await expect(loadConfig({ purpose: 'status', configFile, env: {} })).resolves.toMatchObject({
      stateDirectory: '/from/file',
    });
    const env = { GGJOBS_STATE_DIRECTORY: '/from/env' };
    await expect(loadConfig({ purpose: 'status', configFile, env })).resolves.toMatchObject({
      stateDirectory: '/from/env',
    });
    await expect(
      loadConfig({ purpose: 'status', configFile, env, flags: { stateDirectory: '/from/flag' } }),
    ).resolves.toMatchObject({ stateDirectory: '/from/flag' });
  });
});
