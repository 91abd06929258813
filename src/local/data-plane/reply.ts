// Sends `/accepted` and `/rejected` replies the way AWS IoT does: to the connection that sent the
// request, whether or not it subscribed to the reply topic, and to no one else. Replies bypass the
// broker's subscriptions, so another client subscribed to `$aws/things/#` never sees them.
// The reply's QoS is the request's (at most 1, as AWS IoT supports no QoS 2).
import type { Logger } from '../../log.js';
import type { ClientPublish } from '../broker.js';
import type { ExecutionState } from '../store-errors.js';
import { epochSeconds, rejectedPayload, withEnvelope } from './responses.js';
import { replyTopic } from './topics.js';

/** The request being answered: who sent it, and at which QoS. */
export type RequestOrigin = Pick<ClientPublish, 'replyToSender'> & { qos: 0 | 1 | 2 };

export interface Replier {
  accepted(requestTopic: string, body: object, clientToken: string | undefined): void;
  rejected(
    requestTopic: string,
    code: string,
    message: string,
    clientToken: string | undefined,
    executionState?: ExecutionState,
  ): void;
}

export function createReplier(origin: RequestOrigin, now: () => number, logger?: Logger): Replier {
  const qos = origin.qos === 0 ? 0 : 1;
  const send = (topic: string, body: object) => {
    origin.replyToSender(topic, JSON.stringify(body), qos).catch((err: unknown) => {
      logger?.warn({ topic, err: err instanceof Error ? err.message : String(err) }, 'reply not delivered');
    });
  };
  return {
    accepted(requestTopic, body, clientToken) {
      send(replyTopic(requestTopic, 'accepted'), withEnvelope(body, epochSeconds(now()), clientToken));
    },
    rejected(requestTopic, code, message, clientToken, executionState) {
      logger?.debug({ topic: requestTopic, code, message }, 'jobs request rejected');
      send(
        replyTopic(requestTopic, 'rejected'),
        rejectedPayload(code, message, epochSeconds(now()), clientToken, executionState),
      );
    },
  };
}
