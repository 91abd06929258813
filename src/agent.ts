// The whole device agent, composed the one way data flows: config -> transport -> listener (data
// plane) -> runner, and enroll (control plane, asked only when the data plane's look finds nothing).
// `ggjobs start`, `ggjobs demo` and the Greengrass component all run exactly this, so the demo exercises the same code paths as a device. Live
// reconfiguration (src/supervisor/) stops one RunningAgent and starts another with the new config.
import { doublingDelay } from './backoff.js';
import type { Config } from './config/schema.js';
import { type EnrollResult, enroll } from './enroll/enroll.js';
import { ControlPlaneUnavailableError } from './errors.js';
import { type AgentLock, acquireAgentLock } from './jobs/agent-lock.js';
import { createExecutionProbe, type ExecutionProbe } from './jobs/execution-probe.js';
import { type Listener, type ListenerEvent, startListener } from './jobs/listener.js';
import type { Logger } from './log.js';
import { createJobRunner } from './run/runner.js';
import type { RunJob } from './run/types.js';
import { createTransport } from './transport/index.js';
import type { Transport } from './transport/types.js';

export type AgentEvent =
  | { type: 'enrolled'; result: EnrollResult }
  | { type: 'enroll-deferred'; error: Error; retryInMs: number }
  /** A deferred enroll retry got a definitive refusal (the job cannot take the group). */
  | { type: 'enroll-failed'; error: Error }
  | { type: 'listening'; transport: Transport['kind'] }
  | ListenerEvent;

export interface AgentOptions {
  log: Logger;
  onEvent?: (event: AgentEvent) => void;
  /** Defaults to the executor for config.executor. */
  runJob?: RunJob;
  /** Defaults to createTransport(config.transport). The agent owns it: stop() (or a failed start) closes it. */
  transport?: Transport;
  /**
   * The enrollment already done for this config's job, thing group and thing (a live reconfiguration
   * that did not touch them): enroll is skipped and this result is kept.
   */
  enrollment?: EnrollResult;
  /**
   * Aborting ends a start still in progress: enroll gives up at its next retry wait, the transport is
   * closed (so a broker that never answers does not hold the start), and startAgent rejects with
   * the signal's reason.
   */
  signal?: AbortSignal;
}

export interface RunningAgent {
  readonly config: Config;
  readonly enrollment: EnrollResult | undefined;
  readonly listener: Listener;
  readonly transport: Transport;
  /** Graceful stop: no new work, a running job gets graceMs, the outbox is flushed, the transport closed. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

// When AWS stays unreachable or throttled past enroll's own retry budget, the agent still listens
// (the group may well be associated already) and tries to enroll again later, spreading the fleet out.
const DEFERRED_ENROLL_MIN_MS = 60_000;
const DEFERRED_ENROLL_MAX_MS = 30 * 60_000;

/** A sleep for enroll's retry waits that ends early (rejecting) when the start is aborted. */
function abortableSleep(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}

export async function startAgent(config: Config, options: AgentOptions): Promise<RunningAgent> {
  const { log, signal } = options;
  const emit = (event: AgentEvent) => options.onEvent?.(event);
  let enrollment: EnrollResult | undefined = options.enrollment;
  let enrollTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  // Set once the transport is connected: enroll looks on the data plane before any control-plane call.
  let probe: ExecutionProbe | undefined;
  const tryEnroll = async (attempt: number): Promise<void> => {
    try {
      enrollment = await enroll(config, {
        log: log.child({ part: 'enroll' }),
        sleep: abortableSleep(signal),
        probe: probe && (() => (probe as ExecutionProbe).look()),
      });
      probe?.close();
      log.info({ result: enrollment.result, thingGroupArn: enrollment.thingGroupArn }, 'enrolled');
      emit({ type: 'enrolled', result: enrollment });
    } catch (err) {
      // Only "unreachable / still throttled" is deferred; a job that cannot take the group is the
      // operator's to fix and stops the agent with its own exit code.
      if (!(err instanceof ControlPlaneUnavailableError) || signal?.aborted) throw err;
      const ceiling = doublingDelay(attempt + 1, DEFERRED_ENROLL_MIN_MS, DEFERRED_ENROLL_MAX_MS);
      const retryInMs = Math.round(
        DEFERRED_ENROLL_MIN_MS + Math.random() * (ceiling - DEFERRED_ENROLL_MIN_MS),
      );
      log.warn({ err: err.message, retryInMs }, 'enroll deferred: listening meanwhile, will try again');
      emit({ type: 'enroll-deferred', error: err, retryInMs });
      enrollTimer = setTimeout(() => {
        if (stopped) return;
        tryEnroll(attempt + 1).catch((e: Error) => {
          if (stopped) return;
          log.error({ err: e.message, code: (e as { code?: string }).code }, 'enroll failed');
          emit({ type: 'enroll-failed', error: e });
        });
      }, retryInMs);
      enrollTimer.unref();
    }
  };

  // One agent per state directory (its journal): refuse at once when another live agent holds it.
  let lock: AgentLock;
  try {
    lock = await acquireAgentLock(config.stateDirectory);
  } catch (err) {
    await options.transport?.close().catch(() => undefined);
    throw err;
  }
  const transport =
    options.transport ??
    createTransport(config.transport, { thingName: config.thingName, log: log.child({ part: 'transport' }) });
  // Closing the transport is what ends a connect() that is still waiting for the broker or nucleus.
  const onAbort = () => void transport.close().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  let listener: Listener | undefined;
  try {
    signal?.throwIfAborted();
    // Connect and listen first: enroll then looks on the data plane (free) before the control plane
    // (throttled), and a device waiting out a first boot already runs what its group is given.
    await transport.connect();
    listener = await startListener({
      config,
      transport,
      runJob: options.runJob ?? createJobRunner(config.executor, { stateDirectory: config.stateDirectory }),
      log: log.child({ part: 'listen' }),
      onEvent: emit,
    });
    signal?.throwIfAborted();
    if (config.enroll.enabled && !enrollment) {
      probe = createExecutionProbe(config, transport, log.child({ part: 'enroll' }));
      await tryEnroll(0);
    }
    signal?.throwIfAborted();
  } catch (err) {
    stopped = true;
    clearTimeout(enrollTimer);
    probe?.close();
    await listener?.stop({ graceMs: 0 }).catch(() => undefined);
    await transport.close().catch(() => undefined);
    await lock.release();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  emit({ type: 'listening', transport: transport.kind });

  const running = listener;
  return {
    config,
    get enrollment() {
      return enrollment;
    },
    listener: running,
    transport,
    async stop(stopOptions = {}) {
      stopped = true;
      clearTimeout(enrollTimer);
      probe?.close();
      try {
        await running.stop({ graceMs: stopOptions.graceMs ?? config.listen.shutdownGraceSeconds * 1000 });
      } finally {
        await lock.release();
      }
    },
  };
}
