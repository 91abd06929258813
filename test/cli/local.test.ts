// `ggjobs local` as a user runs it: a child process that prints its endpoints, serves the AWS SDK and
// MQTT clients on them, and exits 0 on SIGTERM / SIGINT; bad flag values exit 2 naming the flag.
import { CreateThingCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { localBanner, parsePort, parseRateLimit } from '../../src/cli/commands/local.js';
import type { LocalStack } from '../../src/local/index.js';
import { waitFor } from '../local/stack-helpers.js';
import { runCli, startCli } from './run-cli.js';

const running: ReturnType<typeof startCli>[] = [];

afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }
});

/** Starts `ggjobs local --json ...` and returns the parsed ready line. */
async function startLocal(extra: string[] = []) {
  const cli = startCli(['local', '--json', '--mqtt-port', '0', '--http-port', '0', ...extra]);
  running.push(cli);
  const line = await waitFor(
    () => (cli.output.stdout.includes('\n') ? cli.output.stdout.split('\n')[0] : undefined),
    `the ready line (stderr so far: ${cli.output.stderr})`,
    30_000,
  );
  return { cli, ready: JSON.parse(line) as { mqttUrl: string; controlPlaneEndpoint: string } };
}

describe('ggjobs local', () => {
  it('prints one JSON ready line, serves the SDK and MQTT, and exits 0 on SIGTERM', async () => {
    const { cli, ready } = await startLocal();
    expect(Object.keys(ready).sort()).toEqual(['controlPlaneEndpoint', 'mqttUrl']);
    expect(ready.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.controlPlaneEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const iot = new IoTClient({
      endpoint: ready.controlPlaneEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await iot.send(new CreateThingCommand({ thingName: 'cli-thing' }));
      const thing = await iot.send(new DescribeThingCommand({ thingName: 'cli-thing' }));
      expect(thing.thingName).toBe('cli-thing');
    } finally {
      iot.destroy();
    }

    const client = await connectAsync(ready.mqttUrl, { reconnectPeriod: 0 });
    await client.subscribeAsync('$aws/things/cli-thing/jobs/get/accepted');
    const reply = new Promise<string>((resolve) =>
      client.once('message', (_topic, payload) => resolve(payload.toString())),
    );
    await client.publishAsync('$aws/things/cli-thing/jobs/get', '{"clientToken":"cli"}');
    expect(JSON.parse(await reply)).toMatchObject({ inProgressJobs: [], queuedJobs: [], clientToken: 'cli' });
    await client.endAsync(true);

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    // Exactly one line on stdout; logs went to stderr.
    expect(cli.output.stdout.trim().split('\n')).toHaveLength(1);
    expect(cli.output.stderr).toContain('stopping the local stack');
  });

  it('exits 0 on SIGINT too, and applies --region, --notify-topics and --rate-limit', async () => {
    const { cli, ready } = await startLocal([
      '--region',
      'eu-central-1',
      '--notify-topics',
      'observed',
      '--rate-limit',
      'data:GetPendingJobExecutions=0:0',
    ]);
    const iot = new IoTClient({
      endpoint: ready.controlPlaneEndpoint,
      region: 'eu-central-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const created = await iot.send(new CreateThingCommand({ thingName: 'eu-thing' }));
      expect(created.thingArn).toMatch(/^arn:aws:iot:eu-central-1:\d{12}:thing\/eu-thing$/);
    } finally {
      iot.destroy();
    }
    const client = await connectAsync(ready.mqttUrl, { reconnectPeriod: 0 });
    await client.subscribeAsync('$aws/things/eu-thing/jobs/get/rejected');
    const reply = new Promise<string>((resolve) =>
      client.once('message', (_topic, payload) => resolve(payload.toString())),
    );
    await client.publishAsync('$aws/things/eu-thing/jobs/get', '{}');
    expect(JSON.parse(await reply)).toMatchObject({ code: 'RequestThrottled' });
    await client.endAsync(true);

    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });

  it('exits 2 naming the flag for a bad value', async () => {
    const cases: [string[], string][] = [
      [['--mqtt-port', 'abc'], '--mqtt-port'],
      [['--http-port', '70000'], '--http-port'],
      [['--notify-topics', 'sometimes'], '--notify-topics'],
      [['--rate-limit', 'DescribeJob'], '--rate-limit'],
      [['--region', 'mars'], '--region'],
    ];
    for (const [args, flag] of cases) {
      const run = await runCli(['local', ...args]);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(flag);
      expect(run.stdout, args.join(' ')).toBe('');
    }
  });

  it('exits 1 with a message naming the port when it is already in use', async () => {
    const { ready } = await startLocal();
    const port = new URL(ready.mqttUrl).port;
    const run = await runCli(['local', '--mqtt-port', port, '--http-port', '0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`MQTT broker port ${port} on 127.0.0.1 is already in use`);
  });
});

describe('ggjobs local flag parsing', () => {
  it('parses ports, including 0 for any free port', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('1883')).toBe(1883);
    for (const bad of ['', '-1', '1.5', '65536', 'x1'])
      expect(() => parsePort(bad), bad).toThrow(/port number/);
  });

  it('parses OP=RATE[:BURST], with data-plane operation names that contain a colon', () => {
    expect(parseRateLimit('data:UpdateJobExecution=5:10')).toEqual({
      operation: 'data:UpdateJobExecution',
      limit: { ratePerSecond: 5, burst: 10 },
    });
    expect(parseRateLimit('AssociateTargetsWithJob=0.5')).toEqual({
      operation: 'AssociateTargetsWithJob',
      limit: { ratePerSecond: 0.5 },
    });
    for (const bad of [
      'DescribeJob',
      '=5',
      'DescribeJob=',
      'DescribeJob=-1',
      'DescribeJob=1:x',
      'DescribeJob=1:2:3',
    ]) {
      expect(() => parseRateLimit(bad), bad).toThrow(/OP=RATE\[:BURST\]/);
    }
  });

  it('tells how to reach the stack in the banner', () => {
    const banner = localBanner({
      mqttUrl: 'mqtt://127.0.0.1:1883',
      controlPlaneEndpoint: 'http://127.0.0.1:4580',
      region: 'us-east-1',
      accountId: '123456789012',
    } as LocalStack);
    expect(banner).toContain('--endpoint-url http://127.0.0.1:4580');
    expect(banner).toContain("mosquitto_sub -h 127.0.0.1 -p 1883 -v -t '$aws/things/+/jobs/#'");
  });
});
