// What `ggjobs local --tls` tells a user: where the TLS listener is, and the exact settings for the
// AWS IoT Device Client, the device SDKs and ggjobs' iot-core transport; and `local certs` --json.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localBanner } from '../../src/cli/commands/local.js';
import type { LocalStack } from '../../src/local/index.js';
import { runCli } from './run-cli.js';

const stack = {
  mqttUrl: 'mqtt://127.0.0.1:1883',
  mqttsUrl: 'mqtts://127.0.0.1:8883',
  caFile: '/home/me/.cache/ggjobs/local-tls/ca.pem',
  tlsDirectory: '/home/me/.cache/ggjobs/local-tls',
  controlPlaneEndpoint: 'http://127.0.0.1:4580',
  region: 'us-east-1',
  accountId: '123456789012',
} as LocalStack;

describe('ggjobs local --tls banner', () => {
  it('says how to point the Device Client, the device SDKs and the iot-core transport at the stack', () => {
    const banner = localBanner(stack);
    const dir = '/home/me/.cache/ggjobs/local-tls';
    expect(banner).toContain('mqtts://127.0.0.1:8883');
    expect(banner).toContain(`CA certificate: ${dir}/ca.pem`);
    expect(banner).toContain(`ggjobs local certs --tls-dir ${dir} --thing THING`);
    expect(banner).toContain(
      `aws-iot-device-client --endpoint 127.0.0.1 --cert ${dir}/THING.pem --key ${dir}/THING.key --root-ca ${dir}/ca.pem --thing-name THING`,
    );
    expect(banner).toContain('port 443 with ALPN x-amzn-mqtt-ca: start the stack with --mqtts-port 443');
    expect(banner).toContain(`endpoint 127.0.0.1, port 8883, CA ${dir}/ca.pem`);
    expect(banner).toContain(
      `transport: {kind: iot-core, endpoint: 127.0.0.1, port: 8883, certFile: ${dir}/THING.pem, keyFile: ${dir}/THING.key, caFile: ${dir}/ca.pem}`,
    );
    expect(banner).toContain('enroll: {endpoint: http://127.0.0.1:4580}');
  });

  it('quotes a TLS directory with spaces for the shell, and leaves it out without --tls', () => {
    const spaced = localBanner({ ...stack, tlsDirectory: '/tmp/my certs', caFile: '/tmp/my certs/ca.pem' });
    expect(spaced).toContain("--tls-dir '/tmp/my certs' --thing THING");
    const plain = localBanner({ ...stack, mqttsUrl: undefined, caFile: undefined, tlsDirectory: undefined });
    expect(plain).not.toContain('mqtts');
    expect(plain).not.toContain('aws-iot-device-client');
  });

  it('`local certs --json` prints the files, and reuses them the second time', async () => {
    const work = await mkdtemp(join(tmpdir(), 'ggjobs-cli-certs-'));
    try {
      const dir = join(work, 'tls');
      const first = await runCli(['local', 'certs', '--tls-dir', dir, '--thing', 'dev-7', '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({
        thingName: 'dev-7',
        caFile: join(dir, 'ca.pem'),
        certFile: join(dir, 'dev-7.pem'),
        keyFile: join(dir, 'dev-7.key'),
        created: true,
      });
      const second = await runCli(['local', '--tls-dir', dir, 'certs', '--thing', 'dev-7']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain(
        `Kept the certificate of thing dev-7, signed by ${join(dir, 'ca.pem')}`,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
