// The local stack's defaults and choices, in a module of their own so that `ggjobs local`'s option
// declarations (and `--help`) can name them without loading the broker, the control plane and aedes.
/** Which notification topic forms are published (see data-plane/topics.ts notificationTopics). */
export type NotifyTopicsMode = 'documented' | 'observed' | 'both';

export const NOTIFY_TOPICS_MODES: readonly NotifyTopicsMode[] = ['documented', 'observed', 'both'];
export type { RateLimit } from './request-gate.js';

export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTTS_PORT = 8883;
export const DEFAULT_HTTP_PORT = 4580;
export const DEFAULT_REGION = 'us-east-1';
export { defaultTlsDirectory, thingNameProblem } from './tls/names.js';
