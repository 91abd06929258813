// Publishes `/accepted` and `/rejected` replies. AWS delivers replies to the requesting client even
// without a subscription; here they go through the broker like any message, so the requester (and any
// watcher such as `mosquitto_sub -t '$aws/things/+/jobs/#'`) gets them by subscribing.
import type { Logger } from '../../log.js';
import type { LocalBroker } from '../broker.js';
import type { ExecutionState } from '../store-errors.js';
import { epochSeconds, rejectedPayload, withEnvelope } from './responses.js';
import { replyTopic } from './topics.js';

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

export function createReplier(broker: LocalBroker, now: () => number, logger?: Logger): Replier {
  const send = (topic: string, body: object) => {
    broker.publish(topic, JSON.stringify(body)).catch((err: unknown) => {
      logger?.warn({ topic, err: err instanceof Error ? err.message : String(err) }, 'reply not published');
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
