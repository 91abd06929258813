// What an operation handler sees: its request, a way to answer on its stream, and the shared
// server state. The connection (connection.ts) implements StreamContext; handlers never touch sockets.
import type { ConfigObject } from './configuration-store.js';
import type { MqttBridge } from './mqtt-bridge.js';
import type { ModeledErrorName } from './protocol.js';

export interface StreamContext {
  /** Bare operation name, e.g. 'SubscribeToIoTCore'. */
  readonly operation: string;
  readonly request: Record<string, unknown>;
  /** The first answer on the stream (`<Operation>Response`); terminate for one-shot operations. */
  respond(body: unknown, options: { terminate: boolean }): void;
  /** A stream event after the response, e.g. shape 'IoTCoreMessage'. Ignored once the stream is closed. */
  sendEvent(shapeName: string, body: unknown): void;
  /** A modeled ApplicationError; ends the stream. */
  fail(error: ModeledErrorName, message: string): void;
  /** Runs when the stream ends for any reason (client TerminateStream, connection lost, server close). */
  onClose(cleanup: () => void | Promise<void>): void;
  readonly closed: boolean;
}

export interface AccessControl {
  /** Topic filters SubscribeToIoTCore may use; undefined = anything. */
  subscribe?: readonly string[];
  /** Topics PublishToIoTCore may use; undefined = anything. */
  publish?: readonly string[];
}

export interface ConfigurationWatcher {
  componentName: string;
  keyPath: readonly string[];
  notify(changedKeyPath: readonly string[]): void;
}

export interface ComponentUpdateWatcher {
  preUpdate(deploymentId: string): void;
  postUpdate(deploymentId: string): void;
}

export interface Deferral {
  deploymentId: string;
  recheckAfterMs: number;
  message?: string;
}

export interface ServerState {
  readonly componentName: string;
  configuration: ConfigObject;
  readonly bridge: MqttBridge;
  readonly accessControl: AccessControl | undefined;
  /** UpdateState history, oldest first. */
  readonly states: string[];
  readonly configurationWatchers: Set<ConfigurationWatcher>;
  readonly componentUpdateWatchers: Set<ComponentUpdateWatcher>;
  /** DeferComponentUpdate answers, oldest first. */
  readonly deferrals: Deferral[];
}

export type OperationHandler = (ctx: StreamContext, state: ServerState) => void | Promise<void>;

/** A required non-empty string field of a request, or undefined when missing / wrong type. */
export function stringField(request: Record<string, unknown>, name: string): string | undefined {
  const value = request[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** An optional string-array field (keyPath); undefined when present but not an array of strings. */
export function keyPathField(request: Record<string, unknown>, name: string): string[] | undefined {
  const value = request[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return undefined;
  return value as string[];
}
