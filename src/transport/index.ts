// Picks the transport backend named by `transport.kind`: mqtt.js (any MQTT broker), AWS IoT Core
// (device SDK, mTLS) or Greengrass IPC (through the nucleus).
import type { TransportConfig } from '../config/schema.js';
import { TransportConnectError } from '../errors.js';
import type { Logger } from '../log.js';
import { createGreengrassIpcTransport } from './greengrass-ipc.js';
import { createIotCoreTransport } from './iot-core.js';
import { MqttTransport } from './mqtt.js';
import type { Transport } from './types.js';

export type { MessageHandler, QoS, Transport, TransportEvents, TransportKind } from './types.js';

export interface CreateTransportOptions {
  /** Used for the default MQTT client id (ggjobs-<thingName>) and by backends that need it. */
  thingName: string;
  log: Logger;
}

/** A not yet connected transport for `config` (the validated `transport` section of the config). */
export function createTransport(config: TransportConfig, options: CreateTransportOptions): Transport {
  switch (config.kind) {
    case 'mqtt':
      return new MqttTransport(config, options);
    case 'greengrass-ipc':
      // Socket path and SVCUID come from the environment the nucleus gives its components.
      return createGreengrassIpcTransport({ log: options.log });
    case 'iot-core':
      // The device SDK (native aws-crt) is loaded on connect(), only by agents that use this kind.
      return createIotCoreTransport(config, options);
    default: {
      const kind: never = config;
      throw new TransportConnectError(`transport.kind: unknown kind ${JSON.stringify(kind)}`);
    }
  }
}
