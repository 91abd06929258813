// The Jobs MQTT data plane of the local stack: answers every client PUBLISH on a Jobs request topic
// (see topics.ts) with `/accepted` or `/rejected` sent to that client only (reply.ts), and publishes
// the Jobs events (notifier.ts).
// Order per request: topic -> request gate (counts it; RequestThrottled when its bucket is empty) ->
// payload (InvalidJson / InvalidRequest) -> the operation's handler (the store's DataPlaneError codes).
// Nothing a client sends can throw out of here: unexpected failures are answered InternalError.
import type { Logger } from '../../log.js';
import type { LocalBroker } from '../broker.js';
import type { RequestGate } from '../request-gate.js';
import type { LocalStore } from '../store.js';
import { DataPlaneError } from '../store-errors.js';
import { describeJobExecution } from './describe.js';
import { getPendingJobExecutions } from './get-pending.js';
import type { OperationHandler, RequestTarget } from './handler.js';
import { type Notifier, startNotifier } from './notifier.js';
import { createReplier, type RequestOrigin } from './reply.js';
import { decodePayload, type RequestByOperation, validateRequest } from './requests.js';
import { startNextPendingJobExecution } from './start-next.js';
import { type DataPlaneOperation, gateOperation, type NotifyTopicsMode, parseJobsTopic } from './topics.js';
import { updateJobExecution } from './update.js';

export interface JobsDataPlaneOptions {
  broker: LocalBroker;
  store: LocalStore;
  gate: RequestGate;
  /** Default 'both'. */
  notifyTopics?: NotifyTopicsMode;
  logger?: Logger;
  /** Clock in milliseconds (default Date.now); replies carry it as integer epoch seconds. */
  now?: () => number;
}

export interface JobsDataPlane {
  /** Stops answering requests and publishing events. */
  close(): void;
}

const HANDLERS: { [O in DataPlaneOperation]: OperationHandler<RequestByOperation[O]> } = {
  DescribeJobExecution: describeJobExecution,
  UpdateJobExecution: updateJobExecution,
  GetPendingJobExecutions: getPendingJobExecutions,
  StartNextPendingJobExecution: startNextPendingJobExecution,
};

export function attachJobsDataPlane(options: JobsDataPlaneOptions): JobsDataPlane {
  const { broker, store, gate, logger } = options;
  const now = options.now ?? Date.now;
  const notifier: Notifier = startNotifier({
    broker,
    store,
    mode: options.notifyTopics ?? 'both',
    now,
    ...(logger ? { logger } : {}),
  });

  function handle(topic: string, payload: Buffer, origin: RequestOrigin): void {
    const parsed = parseJobsTopic(topic);
    if (parsed.kind === 'ignored') return;
    const reply = createReplier(origin, now, logger);
    const decoded = decodePayload(payload);
    const clientToken = decoded.clientToken;
    if (parsed.kind === 'invalid') {
      reply.rejected(topic, 'InvalidTopic', parsed.reason, clientToken);
      return;
    }
    const { operation, thingName } = parsed;
    logger?.debug({ topic, operation }, 'jobs request');
    if (!gate.admit(gateOperation(operation))) {
      reply.rejected(topic, 'RequestThrottled', `${operation} was throttled; retry later`, clientToken);
      return;
    }
    if (!decoded.ok) {
      reply.rejected(topic, decoded.problem.code, decoded.problem.message, clientToken);
      return;
    }
    const validated = validateRequest(operation, decoded.value);
    if (!validated.ok) {
      reply.rejected(topic, validated.problem.code, validated.problem.message, clientToken);
      return;
    }
    const target: RequestTarget = {
      thingName,
      ...(parsed.jobId === undefined ? {} : { jobId: parsed.jobId }),
      ...(parsed.namespaceId === undefined ? {} : { namespaceId: parsed.namespaceId }),
    };
    const handler = HANDLERS[operation] as OperationHandler<unknown>;
    let body: object;
    try {
      body = handler(store, target, validated.request);
    } catch (err) {
      if (err instanceof DataPlaneError) {
        reply.rejected(topic, err.code, err.message, clientToken, err.executionState);
      } else {
        logger?.error({ err, topic }, 'jobs request failed unexpectedly');
        reply.rejected(topic, 'InternalError', 'internal error', clientToken);
      }
      return;
    }
    reply.accepted(topic, body, clientToken);
  }

  const detach = broker.onClientPublish(({ topic, payload, qos, replyToSender }) => {
    try {
      handle(topic, payload, { qos, replyToSender });
    } catch (err) {
      logger?.error({ err, topic }, 'jobs data plane failed on a publish');
    }
  });

  return {
    close() {
      detach();
      notifier.close();
    },
  };
}
