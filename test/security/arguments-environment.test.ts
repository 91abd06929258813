// Attack family: what reaches a handler. Shell metacharacters in args are passed verbatim as argv
// (no shell ever sees them; the handler writes its argv NUL-separated and the bytes are compared),
// and the step's environment carries none of the agent's secrets: AWS_* credentials, the Greengrass
// SVCUID token, AWS_CONTAINER_* credentials, GGJOBS_* settings (here a broker password in
// GGJOBS_MQTT_URL). The same secrets never reach the agent's log either.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackBench, handlerStep, ran, startAttackBench } from './harness.js';

const SECRETS = {
  AWS_SESSION_TOKEN: 'secret-session-token-1f3a',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:9/secret-container-path-77c1',
  AWS_CONTAINER_AUTHORIZATION_TOKEN: 'secret-container-token-9d2e',
  SVCUID: 'secret-svcuid-5b8c',
  GGJOBS_LOG_LEVEL: 'info',
};
const BROKER_PASSWORD = 'secret-broker-password-4e6f';

let bench: AttackBench;
beforeAll(async () => {
  bench = await startAttackBench((js) => {
    const url = new URL(js.stack.mqttUrl);
    url.username = 'device';
    url.password = BROKER_PASSWORD;
    return { ...SECRETS, AWS_SECRET_ACCESS_KEY: 'local', GGJOBS_MQTT_URL: url.href };
  });
  await bench.handler(bench.handlers, 'argv.sh', `printf '%s\\0' "$@" > "$GGJOBS_OUT"`);
});
afterAll(async () => {
  await bench?.close();
});

describe('attack: shell metacharacters in args', () => {
  it('reach the handler byte for byte and run nothing', async () => {
    const marker = bench.marker();
    const out = join(bench.safe, 'argv.bin');
    const args = [
      `; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `| touch ${marker}`,
      `&& touch ${marker} &`,
      `> ${marker}`,
      `'single' "double" \\back\\slash`,
      'line one\nline two\ttab',
      '*',
      '~root',
      '$HOME ${PATH} $((1+1))',
      '--help',
      '-rf /',
      'ünïcödé ✓ 🚀',
      ' ',
    ];
    const outcome = await bench.deliver(handlerStep('argv.sh', args), {
      environment: { GGJOBS_OUT: out },
    });
    expect(outcome.status).toBe('SUCCEEDED');
    const expected = Buffer.from(['', ...args].map((a) => `${a}\0`).join(''), 'utf8');
    expect((await readFile(out)).equals(expected)).toBe(true);
    expect(ran(marker)).toBe(false);
  });
});

describe("attack: reading the agent's secrets from a step", () => {
  it('the step environment holds only the documented variables, none of the secrets', async () => {
    const out = join(bench.safe, 'env.txt');
    await bench.handler(bench.handlers, 'env.sh', `env > '${out}'`);
    const outcome = await bench.deliver(handlerStep('env.sh'));
    expect(outcome.status).toBe('SUCCEEDED');
    const dump = await readFile(out, 'utf8');
    const names = dump
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(names.filter((n) => /^AWS_/.test(n))).toEqual([]);
    expect(names).not.toContain('SVCUID');
    expect(names.filter((n) => n.startsWith('GGJOBS_')).sort()).toEqual([
      'GGJOBS_EXECUTION_NUMBER',
      'GGJOBS_JOB_ID',
      'GGJOBS_NAMESPACE_ID',
      'GGJOBS_THING_NAME',
    ]);
    for (const secret of [...Object.values(SECRETS).filter((v) => v.startsWith('secret')), BROKER_PASSWORD])
      expect(dump).not.toContain(secret);
  });

  it("the agent's log never shows the broker password", () => {
    // The agent connected with the password in its URL (it ran the executions above) ...
    expect(bench.agent.logLines().some((l) => l.msg === 'mqtt: connected')).toBe(true);
    // ... and logged that URL without it.
    const connected = bench.agent.logLines().find((l) => l.msg === 'mqtt: connected');
    expect(String(connected?.url)).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(bench.agent.stderr + bench.agent.stdout).not.toContain(BROKER_PASSWORD);
  });
});
