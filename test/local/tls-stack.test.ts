// The TLS listener's life cycle within the stack: it keeps its port across a broker outage (devices
// reconnect to the same address), a port already taken fails start-up naming the TLS listener, and
// a broken TLS directory fails before anything listens.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalStackListenError, LocalTlsError } from '../../src/errors.js';
import { startLocalStack } from '../../src/local/index.js';
import { connectMqtts, startTlsStack, type TlsFixture } from './tls-helpers.js';

let fixture: TlsFixture;
let work: string;

beforeEach(async () => {
  fixture = await startTlsStack('lifecycle-thing');
  work = await mkdtemp(join(tmpdir(), 'ggjobs-tls-stack-'));
});

afterEach(async () => {
  await fixture.close();
  await rm(work, { recursive: true, force: true });
});

describe('the TLS listener', () => {
  it('reports its URL and CA, and listens on the same port again after a broker outage', async () => {
    expect(fixture.stack.mqttsUrl).toBe(`mqtts://127.0.0.1:${fixture.port}`);
    expect(fixture.stack.caFile).toBe(join(fixture.directory, 'ca.pem'));
    expect(fixture.stack.tlsDirectory).toBe(fixture.directory);
    const before = await connectMqtts(fixture, fixture.device);
    const closed = new Promise<void>((resolve) => before.once('close', () => resolve()));
    await fixture.stack.stopBroker();
    await closed;
    await expect(connectMqtts(fixture, fixture.device)).rejects.toThrow(/ECONNREFUSED/);
    await fixture.stack.startBroker();
    const after = await connectMqtts(fixture, fixture.device);
    expect(after.connected).toBe(true);
    await Promise.all([before.endAsync(true), after.endAsync(true)]);
  });

  it('fails start-up naming the TLS listener when its port is taken', async () => {
    const err = await startLocalStack({
      mqttPort: 0,
      httpPort: 0,
      tls: { directory: join(work, 'tls'), port: fixture.port },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalStackListenError);
    expect((err as Error).message).toBe(
      `the MQTT over TLS broker port ${fixture.port} on 127.0.0.1 is already in use`,
    );
  });

  it('fails start-up on a broken TLS directory before listening', async () => {
    const dir = join(work, 'broken');
    await startLocalStack({ mqttPort: 0, httpPort: 0, tls: { directory: dir, port: 0 } }).then((s) =>
      s.close(),
    );
    await writeFile(join(dir, 'ca.pem'), 'garbage\n');
    const err = await startLocalStack({ mqttPort: 0, httpPort: 0, tls: { directory: dir, port: 0 } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LocalTlsError);
    expect((err as Error).message).toMatch(/ca\.pem: not a PEM certificate/);
  });
});
