// The nucleus's MQTT proxy, reduced to what the test server needs: SubscribeToIoTCore and
// PublishToIoTCore go to a real broker through mqtt.js. Each subscription stream gets its own
// broker client so overlapping filters never deliver one message to the wrong stream (or twice).
// AWS IoT (and the local stack) deliver Jobs replies only to the connection that published the
// request, so what the publishing client receives goes to every stream whose filter matches, as the
// nucleus dispatches what arrives on its one connection.
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { topicMatchesFilter } from './topic-filter.js';

export type BridgeQos = 0 | 1;

export interface BridgeSubscription {
  close(): Promise<void>;
}

export interface MqttBridge {
  /** Resolves once the broker acknowledged the subscription. */
  subscribe(
    topicFilter: string,
    qos: BridgeQos,
    onMessage: (topic: string, payload: Buffer, retain: boolean) => void,
  ): Promise<BridgeSubscription>;
  /** Resolves once the broker accepted the message (PUBACK for QoS 1). */
  publish(topic: string, payload: Buffer, qos: BridgeQos, retain: boolean): Promise<void>;
  close(): Promise<void>;
}

const CLIENT_OPTIONS: IClientOptions = {
  // Bounded so a broker that is down fails the IPC call instead of hanging it.
  connectTimeout: 5_000,
  reconnectPeriod: 500,
  clean: true,
};

async function openClient(mqttUrl: string): Promise<MqttClient> {
  // allowRetries=false: the first connection error rejects instead of retrying forever.
  return connectAsync(mqttUrl, CLIENT_OPTIONS, false);
}

export function createMqttBridge(mqttUrl: string): MqttBridge {
  const clients = new Set<MqttClient>();
  type Stream = { filter: string; onMessage: (topic: string, payload: Buffer, retain: boolean) => void };
  const streams = new Set<Stream>();
  let publisher: Promise<MqttClient> | undefined;
  let closed = false;

  async function track(client: MqttClient): Promise<MqttClient> {
    clients.add(client);
    // Network input must never crash the test process.
    client.on('error', () => {});
    if (closed) {
      await client.endAsync(true);
      throw new Error('bridge closed');
    }
    return client;
  }

  return {
    async subscribe(topicFilter, qos, onMessage) {
      const client = await track(await openClient(mqttUrl));
      client.on('message', (topic, payload, packet) => onMessage(topic, payload, packet.retain === true));
      try {
        const granted = await client.subscribeAsync(topicFilter, { qos });
        if (granted.some((g) => g.qos === 128))
          throw new Error(`broker refused subscription to ${topicFilter}`);
      } catch (err) {
        clients.delete(client);
        await client.endAsync(true);
        throw err;
      }
      let ended = false;
      const stream: Stream = { filter: topicFilter, onMessage };
      streams.add(stream);
      return {
        async close() {
          if (ended) return;
          ended = true;
          streams.delete(stream);
          clients.delete(client);
          await client.endAsync(true);
        },
      };
    },

    async publish(topic, payload, qos, retain) {
      if (!publisher) {
        publisher = openClient(mqttUrl)
          .then(track)
          .then((client) =>
            client.on('message', (topic, payload, packet) => {
              for (const stream of streams) {
                if (topicMatchesFilter(stream.filter, topic)) stream.onMessage(topic, payload, packet.retain);
              }
            }),
          );
        publisher.catch(() => {
          publisher = undefined;
        });
      }
      const client = await publisher;
      await client.publishAsync(topic, payload, { qos, retain });
    },

    async close() {
      closed = true;
      const all = [...clients];
      clients.clear();
      publisher = undefined;
      await Promise.all(all.map((c) => c.endAsync(true)));
    },
  };
}
