// Subscription bookkeeping shared by the backends: which handlers listen on which topic filter, and
// delivering an incoming message to the right ones. The registry outlives connections (it is what
// gets subscribed again after a reconnect); what the broker or nucleus currently holds is each
// backend's own business.
import type { MessageHandler } from './types.js';

/** MQTT topic filter matching (`+` one level, `#` the rest), for routing messages to handlers. */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // also matches the parent level ('a/#' matches 'a')
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Calls every handler with the message. A handler that throws is reported to `onError` and does not
 * stop the others: one faulty listener must not starve the rest of the agent.
 */
export function deliverMessage(
  handlers: Iterable<MessageHandler>,
  topic: string,
  payload: Buffer,
  onError: (err: unknown) => void,
): void {
  for (const handler of handlers) {
    try {
      handler(topic, payload);
    } catch (err) {
      onError(err);
    }
  }
}

/** Topic filter -> its handlers, in subscription order. */
export class SubscriptionRegistry {
  private readonly byFilter = new Map<string, Set<MessageHandler>>();

  /** `onHandlerError` hears of every handler that threw (the backend logs it under its own name). */
  constructor(private readonly onHandlerError: (topic: string, err: unknown) => void) {}

  /** Remembers `handler` for `topicFilter`; true when the filter is new (it needs a SUBSCRIBE). */
  add(topicFilter: string, handler: MessageHandler): boolean {
    const handlers = this.byFilter.get(topicFilter);
    if (handlers) {
      handlers.add(handler);
      return false;
    }
    this.byFilter.set(topicFilter, new Set([handler]));
    return true;
  }

  /** Every remembered filter, in the order they were first subscribed. */
  filters(): string[] {
    return [...this.byFilter.keys()];
  }

  /** Delivers a message to the handlers of every filter that matches its topic. */
  dispatch(topic: string, payload: Buffer): void {
    for (const [filter, handlers] of this.byFilter) {
      if (!topicMatches(filter, topic)) continue;
      deliverMessage(handlers, topic, payload, (err) => this.onHandlerError(topic, err));
    }
  }

  clear(): void {
    this.byFilter.clear();
  }
}
