// What the TLS tests of the local stack share: a stack started with `tls`, device certificates from
// its CA and from another CA (made by the stack's own certificate code, no openssl binary), and an
// mqtt.js client over mTLS.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { type ClientCertificate, ensureClientCertificate } from '../../src/local/tls/cert-directory.js';

export interface TlsFixture {
  stack: LocalStack;
  /** The stack's TLS directory. */
  directory: string;
  /** Issued by the stack's CA for `thingName`. */
  device: ClientCertificate;
  /** Issued for the same thing name by a CA the stack does not know. */
  foreign: ClientCertificate;
  thingName: string;
  /** The TLS endpoint's host and port. */
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startTlsStack(thingName = 'tls-device'): Promise<TlsFixture> {
  const work = await mkdtemp(join(tmpdir(), 'ggjobs-local-tls-'));
  const directory = join(work, 'tls');
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, tls: { directory, port: 0 } });
  const device = await ensureClientCertificate(directory, thingName);
  const foreign = await ensureClientCertificate(join(work, 'other-ca'), thingName);
  const { hostname, port } = new URL(stack.mqttsUrl!);
  return {
    stack,
    directory,
    device,
    foreign,
    thingName,
    host: hostname,
    port: Number(port),
    async close() {
      await stack.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** An mqtt.js client over TLS with `certificate` (or none), trusting the stack's CA. */
export async function connectMqtts(
  fixture: TlsFixture,
  certificate: ClientCertificate | undefined,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  counter += 1;
  return connectAsync(
    fixture.stack.mqttsUrl!,
    {
      clientId: `mqtts-${process.pid}-${counter}`,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ca: await readFile(fixture.stack.caFile!),
      ...(certificate
        ? { cert: await readFile(certificate.certFile), key: await readFile(certificate.keyFile) }
        : {}),
      ...extra,
    },
    false,
  );
}
