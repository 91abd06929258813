// Step processes get a clean, documented environment: nothing of the agent's (credentials, the
// Greengrass IPC token) leaks into them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildChildEnvironment, DEFAULT_LANG, SAFE_PATH } from '../../src/run/environment.js';
import { createJobRunner } from '../../src/run/runner.js';
import {
  cleanup,
  executorConfig,
  handlerDocument,
  makeTempDir,
  recordingContext,
  writeHandler,
} from './helpers.js';

const planted = {
  AWS_SECRET_ACCESS_KEY: 'planted-secret',
  AWS_ACCESS_KEY_ID: 'AKIAPLANTED',
  AWS_SESSION_TOKEN: 'planted-token',
  SVCUID: 'planted-svcuid',
  AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '/planted/socket',
  GGJOBS_PLANTED: 'agent-only',
};
const saved: Record<string, string | undefined> = {};

beforeEach(() => {
  for (const [k, v] of Object.entries(planted)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});

afterEach(async () => {
  for (const k of Object.keys(planted)) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  await cleanup();
});

/** The shell itself may add these to what `env` prints. */
const SHELL_ADDED = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);

async function envSeenByHandler(config: Record<string, unknown> = {}, deps: { agentLang?: string } = {}) {
  const dir = await makeTempDir();
  const out = join(dir, 'env');
  await writeHandler(dir, 'dump-env.sh', `env > '${out}'`);
  const run = createJobRunner(executorConfig({ handlerDirectory: dir, ...config }), deps);
  const outcome = await run(handlerDocument('dump-env.sh'), recordingContext().context);
  expect(outcome.status).toBe('SUCCEEDED');
  const env: Record<string, string> = {};
  for (const line of (await readFile(out, 'utf8')).trimEnd().split('\n')) {
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

describe('step environment', () => {
  it('contains only the documented variables, with the job identity', async () => {
    const env = await envSeenByHandler({}, { agentLang: 'en_US.UTF-8' });
    for (const key of Object.keys(planted)) expect(env[key], key).toBeUndefined();
    const own = Object.keys(env)
      .filter((k) => !SHELL_ADDED.has(k))
      .sort();
    expect(own).toEqual(
      [
        'GGJOBS_EXECUTION_NUMBER',
        'GGJOBS_JOB_ID',
        'GGJOBS_NAMESPACE_ID',
        'GGJOBS_THING_NAME',
        'HOME',
        'LANG',
        'LOGNAME',
        'PATH',
        'USER',
      ].sort(),
    );
    expect(env).toMatchObject({
      GGJOBS_JOB_ID: 'maintenance-job',
      GGJOBS_EXECUTION_NUMBER: '3',
      GGJOBS_THING_NAME: 'core-device-7',
      GGJOBS_NAMESPACE_ID: 'acme-ops',
      PATH: SAFE_PATH,
      HOME: '/root',
      USER: 'root',
      LANG: 'en_US.UTF-8',
    });
  });

  it('adds executor.environment but never lets it replace the job identity', async () => {
    const env = await envSeenByHandler({
      environment: { http_proxy: 'http://proxy.local:3128', GGJOBS_DRY_RUN: '1', GGJOBS_JOB_ID: 'spoofed' },
    });
    expect(env.http_proxy).toBe('http://proxy.local:3128');
    expect(env.GGJOBS_DRY_RUN).toBe('1');
    expect(env.GGJOBS_JOB_ID).toBe('maintenance-job');
  });

  it('falls back to C.UTF-8 for a missing or odd LANG', () => {
    const base = {
      user: { name: 'u', home: '/home/u' },
      job: { jobId: 'j', executionNumber: 1, thingName: 't', namespaceId: 'n' },
    };
    expect(buildChildEnvironment(base).LANG).toBe(DEFAULT_LANG);
    expect(buildChildEnvironment({ ...base, agentLang: 'x;rm -rf /' }).LANG).toBe(DEFAULT_LANG);
    expect(buildChildEnvironment({ ...base, agentLang: 'de_DE.UTF-8' }).LANG).toBe('de_DE.UTF-8');
  });
});
