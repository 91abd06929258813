// The `connected`/`disconnected` listener half of the Transport interface, the same for every backend.
import { EventEmitter } from 'node:events';
import type { TransportEvents } from './types.js';

export abstract class TransportEventSource {
  /** Backends emit `connected` / `disconnected` (with TransportEvents' arguments) on this. */
  protected readonly events = new EventEmitter();

  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }
}
