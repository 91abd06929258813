// The mqtt.js transport against a second, independent broker: mosquitto, plain and with TLS client
// certificates (the local stack's aedes is the other one). A separate mqtt.js client plays the cloud.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransportOfflineError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { MqttTransport, type MqttTransportConfig } from '../../src/transport/mqtt.js';
import { createTestPki, issueCertificate, removeTestPki, type TestPki } from '../support/certs.js';
import { type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { waitFor } from '../support/wait-for.js';

const THING = 'gg-device-2';

interface Setup {
  broker: Mosquitto;
  config: (overrides?: Partial<MqttTransportConfig>) => MqttTransportConfig;
  cloudOptions: () => IClientOptions;
}

/** The same behaviour, checked on a plain and on a TLS (client certificate) listener. */
function behavesLikeATransport(name: string, setup: () => Setup) {
  describe(`mqtt transport against mosquitto (${name})`, () => {
    const transports: MqttTransport[] = [];
    let cloud: MqttClient;
    const cloudMessages: Array<{ topic: string; payload: string }> = [];

    function newTransport(overrides?: Partial<MqttTransportConfig>): MqttTransport {
      const transport = new MqttTransport(setup().config(overrides), {
        thingName: THING,
        log: silentLogger(),
      });
      transports.push(transport);
      return transport;
    }

    beforeAll(async () => {
      cloud = await mqtt.connectAsync(setup().broker.url, {
        ...setup().cloudOptions(),
        reconnectPeriod: 100,
      });
      cloud.on('message', (topic, payload) =>
        cloudMessages.push({ topic, payload: payload.toString('utf8') }),
      );
    });

    afterEach(async () => {
      await Promise.all(transports.splice(0).map((t) => t.close()));
      cloudMessages.length = 0;
    });

    afterAll(async () => {
      await cloud?.endAsync(true);
    });

    it('connects, receives what another client publishes on its subscription, and publishes', async () => {
      const transport = newTransport();
      const connected: boolean[] = [];
      transport.on('connected', (e) => connected.push(e.reconnect));
      await transport.connect();
      expect(transport.connected).toBe(true);
      expect(connected).toEqual([false]);

      const inbound = `$aws/things/${THING}/jobs/job-1/namespace-ns/get/accepted`;
      const received: string[] = [];
      await transport.subscribe(inbound, (_t, p) => received.push(p.toString('utf8')));
      await cloud.publishAsync(inbound, '{"execution":{}}', { qos: 1 });
      await waitFor(() => received.length > 0, 'the inbound message');
      expect(received).toEqual(['{"execution":{}}']);

      const outbound = `$aws/things/${THING}/jobs/job-1/namespace-ns/get`;
      await cloud.subscribeAsync(outbound, { qos: 1 });
      await transport.publish(outbound, '{"clientToken":"t1"}');
      await waitFor(() => cloudMessages.length > 0, 'the outbound message');
      expect(cloudMessages).toEqual([{ topic: outbound, payload: '{"clientToken":"t1"}' }]);
    });

    it('reconnects after mosquitto is killed and restarted on the same port, with its subscription restored', async () => {
      const { broker } = setup();
      const transport = newTransport();
      const connected: boolean[] = [];
      let disconnects = 0;
      transport.on('connected', (e) => connected.push(e.reconnect));
      transport.on('disconnected', () => {
        disconnects += 1;
      });
      await transport.connect();
      const topic = `$aws/things/${THING}/jobs/notify-namespace-ns`;
      const received: string[] = [];
      await transport.subscribe(topic, (_t, p) => received.push(p.toString('utf8')));

      await broker.stop('SIGKILL');
      await waitFor(() => disconnects === 1, 'the disconnected event');
      await expect(transport.publish(topic, 'offline')).rejects.toBeInstanceOf(TransportOfflineError);

      await broker.start(); // no persistence: only a client that subscribes again gets messages
      await waitFor(() => connected.length === 2, 'the reconnected event');
      expect(connected).toEqual([false, true]);
      await waitFor(() => cloud.connected, 'the cloud client to reconnect');
      await cloud.publishAsync(topic, 'after restart', { qos: 1 });
      await waitFor(() => received.length > 0, 'the message after the restart');
      expect(received).toEqual(['after restart']);
    });
  });
}

let pki: TestPki;
let plainBroker: Mosquitto;
let tlsBroker: Mosquitto;

beforeAll(async () => {
  pki = createTestPki(THING);
  plainBroker = await startMosquitto();
  tlsBroker = await startMosquitto({
    tls: { caFile: pki.ca.certFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile },
  });
});

afterAll(async () => {
  await plainBroker?.close();
  await tlsBroker?.close();
  removeTestPki(pki);
});

const common = {
  keepaliveSeconds: 30,
  reconnectMinMs: 50,
  reconnectMaxMs: 500,
  rejectUnauthorized: true,
} as const;

behavesLikeATransport('plain', () => ({
  broker: plainBroker,
  config: (overrides) => ({ kind: 'mqtt', url: plainBroker.url, ...common, ...overrides }),
  cloudOptions: () => ({ clientId: 'cloud-plain' }),
}));

behavesLikeATransport('TLS with client certificates', () => ({
  broker: tlsBroker,
  config: (overrides) => ({
    kind: 'mqtt',
    url: tlsBroker.url,
    caFile: pki.ca.certFile,
    certFile: pki.client.certFile,
    keyFile: pki.client.keyFile,
    ...common,
    ...overrides,
  }),
  cloudOptions: () => {
    const cert = issueCertificate(pki.ca, pki.dir, 'cloud-tls', 'client');
    return {
      clientId: 'cloud-tls',
      ca: readFileSync(pki.ca.certFile),
      cert: readFileSync(cert.certFile),
      key: readFileSync(cert.keyFile),
    };
  },
}));

describe('mqtt transport against mosquitto requiring client certificates', () => {
  it('does not get a connection with a certificate from another CA', async () => {
    const transport = new MqttTransport(
      {
        kind: 'mqtt',
        url: tlsBroker.url,
        caFile: pki.ca.certFile,
        certFile: pki.foreignClient.certFile,
        keyFile: pki.foreignClient.keyFile,
        ...common,
      },
      { thingName: THING, log: silentLogger() },
    );
    const outcome = transport.connect().then(
      () => 'connected',
      () => 'rejected',
    );
    try {
      await waitFor(
        () => /certificate verify failed/.test(tlsBroker.log()),
        'the broker to refuse the certificate',
      );
      expect(transport.connected).toBe(false);
    } finally {
      await transport.close();
    }
    expect(await outcome).toBe('rejected');
  });
});
