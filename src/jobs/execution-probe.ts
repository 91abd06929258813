// A one-question look at the Jobs data plane: does this thing have an execution of the job? (A
// describe on `$aws/things/THING/jobs/JOB/namespace-NS/get`.) The agent hands it to enroll, which
// asks it before any control-plane call; enroll and the jobs half still never import each other.
import type { Config } from '../config/schema.js';
import { JobsRequestRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MessageHandler, Transport, TransportEvents } from '../transport/types.js';
import { JobsClient } from './jobs-client.js';

export interface ExecutionProbe {
  /** 'execution' when the describe is accepted or the execution is terminal, 'none' when rejected as not found; throws otherwise. */
  look(): Promise<'execution' | 'none'>;
  /** Ends the probe's interest in replies (its subscriptions stay with the transport, inert). */
  close(): void;
}

/**
 * A probe on `transport`. Its reply handlers act only while it is open: a transport cannot drop a
 * single handler, and once enrolled the replies on those topics must cost the agent nothing extra.
 */
export function createExecutionProbe(config: Config, transport: Transport, log: Logger): ExecutionProbe {
  let open = true;
  const gated: Transport = {
    kind: transport.kind,
    get connected() {
      return transport.connected;
    },
    connect: () => transport.connect(),
    subscribe: (filter: string, handler: MessageHandler) =>
      transport.subscribe(filter, (topic, payload) => {
        if (open) handler(topic, payload);
      }),
    publish: (topic, payload, qos) => transport.publish(topic, payload, qos),
    on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]) {
      transport.on(event, listener);
      return this;
    },
    off<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]) {
      transport.off(event, listener);
      return this;
    },
    close: () => transport.close(),
  };
  let client: Promise<JobsClient> | undefined;
  const started = () => {
    client ??= (async () => {
      const c = new JobsClient({
        transport: gated,
        ids: { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId },
        requestTimeoutMs: config.listen.requestTimeoutMs,
        requestRetries: config.listen.requestRetries,
        log,
      });
      await c.start();
      return c;
    })();
    return client;
  };
  return {
    async look() {
      const c = await started();
      try {
        await c.describe({ includeJobDocument: false });
        return 'execution';
      } catch (err) {
        if (err instanceof JobsRequestRejectedError) {
          if (err.rejectedCode === 'ResourceNotFound') return 'none';
          // The service answers a describe of a finished execution this way: the thing has one.
          if (err.rejectedCode === 'TerminalStateReached') return 'execution';
        }
        throw err;
      }
    },
    close() {
      open = false;
      void client?.then((c) => c.close()).catch(() => undefined);
    },
  };
}
