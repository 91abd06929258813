// The one interface every backend (mqtt.js, AWS IoT Core mTLS via the device SDK, Greengrass IPC)
// implements. The jobs half only ever talks to this, so the backends are interchangeable.

export type QoS = 0 | 1;

export type TransportKind = 'mqtt' | 'iot-core' | 'greengrass-ipc';

/** Called for every message on a topic matching the subscription's filter. Must not throw. */
export type MessageHandler = (topic: string, payload: Buffer) => void;

export interface ConnectedEvent {
  /** false on the first connection, true on every later one (the jobs half re-syncs then). */
  reconnect: boolean;
}

export interface DisconnectedEvent {
  error?: Error;
}

export interface TransportEvents {
  connected: (event: ConnectedEvent) => void;
  disconnected: (event: DisconnectedEvent) => void;
}

export interface Transport {
  readonly kind: TransportKind;
  /** Resolves once connected the first time; keeps reconnecting (with backoff) after that. */
  connect(): Promise<void>;
  /**
   * Subscribes and remembers the subscription: it is restored on every reconnect. QoS 1 where the
   * session outlives a connection (iot-core, the nucleus), QoS 0 on the clean mqtt.js session.
   * Resolves once the broker/nucleus acknowledged it.
   */
  subscribe(topicFilter: string, handler: MessageHandler): Promise<void>;
  /** Rejects with TransportOfflineError when not connected: callers keep their own durable outbox. */
  publish(topic: string, payload: string | Uint8Array, qos?: QoS): Promise<void>;
  readonly connected: boolean;
  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): this;
  off<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): this;
  /** Unsubscribes, disconnects and stops reconnecting. Idempotent. */
  close(): Promise<void>;
}
