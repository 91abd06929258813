// Greengrass deployments that would restart ggjobs wait for the running job. The agent subscribes to
// component updates (SubscribeToComponentUpdates); when the nucleus announces an update
// (preUpdateEvent) while a job is claimed or running, it answers DeferComponentUpdate, asking to be
// asked again in `recheckAfterMs`; the nucleus then re-announces the update and the answer is given
// afresh. When nothing runs it does not defer, and takes no new jobs until the update is over
// (postUpdateEvent, or the process is stopped; at most HOLD_MAX_MS), so the restart cuts nothing.
// Both operations need no accessControl in the recipe. Deferring works only for deployments whose
// component update policy is NOTIFY_COMPONENTS (the default); SKIP_NOTIFY_COMPONENTS stops the
// component without asking (README "Reliability").
import type { Logger } from '../log.js';
import type { GreengrassIpcConnection } from './ipc-connection.js';

/** How long the nucleus waits before asking again while a job runs. */
export const DEFAULT_RECHECK_AFTER_MS = 10_000;
/** New jobs are held back at most this long after an update was allowed to proceed. */
export const HOLD_MAX_MS = 5 * 60_000;

export interface ComponentUpdateWatchOptions {
  connection: GreengrassIpcConnection;
  log: Logger;
  /** Whether a job is claimed or runs now. */
  busy: () => boolean;
  /** The update may proceed: take no new jobs (until resume is called). */
  hold: (reason: string) => void;
  resume: () => void;
  recheckAfterMs?: number;
  onEvent?: (event: { type: 'deferred' | 'proceeding' | 'updated'; deploymentId: string }) => void;
}

export interface ComponentUpdateWatch {
  close(): Promise<void>;
}

interface UpdateStream {
  on(event: 'message', listener: (event: ComponentUpdateEvents) => void): unknown;
  on(event: 'ended', listener: () => void): unknown;
  on(event: 'streamError', listener: (err: Error) => void): unknown;
  activate(): Promise<unknown>;
  close(): Promise<unknown>;
}

interface ComponentUpdateEvents {
  preUpdateEvent?: { deploymentId: string; isGgcRestarting?: boolean };
  postUpdateEvent?: { deploymentId: string };
}

export async function watchComponentUpdates(
  options: ComponentUpdateWatchOptions,
): Promise<ComponentUpdateWatch> {
  const { connection, log } = options;
  const recheckAfterMs = options.recheckAfterMs ?? DEFAULT_RECHECK_AFTER_MS;
  let stream: UpdateStream | undefined;
  let closed = false;
  let holdTimer: NodeJS.Timeout | undefined;

  const release = () => {
    clearTimeout(holdTimer);
    holdTimer = undefined;
    options.resume();
  };

  const onPreUpdate = async (deploymentId: string) => {
    if (options.busy()) {
      try {
        await connection.client().deferComponentUpdate({
          deploymentId,
          message: 'ggjobs: a job is running; the update waits for it',
          recheckAfterMs,
        });
        log.info({ deploymentId, recheckAfterMs }, 'greengrass: component update deferred while a job runs');
        options.onEvent?.({ type: 'deferred', deploymentId });
      } catch (err) {
        log.warn(
          { deploymentId, err: (err as Error).message },
          'greengrass: deferring the component update failed',
        );
      }
      return;
    }
    log.info(
      { deploymentId },
      'greengrass: component update may proceed; taking no new jobs until it is done',
    );
    options.hold(`Greengrass deployment ${deploymentId} is being applied`);
    clearTimeout(holdTimer);
    holdTimer = setTimeout(release, HOLD_MAX_MS).unref();
    options.onEvent?.({ type: 'proceeding', deploymentId });
  };

  const subscribe = async () => {
    if (closed || !connection.connected) return;
    const next = connection.client().subscribeToComponentUpdates({}) as unknown as UpdateStream;
    next.on('message', (event) => {
      if (event.preUpdateEvent) void onPreUpdate(event.preUpdateEvent.deploymentId);
      if (event.postUpdateEvent) {
        log.info({ deploymentId: event.postUpdateEvent.deploymentId }, 'greengrass: component update done');
        options.onEvent?.({ type: 'updated', deploymentId: event.postUpdateEvent.deploymentId });
        release();
      }
    });
    next.on('streamError', (err) => log.warn({ err: err.message }, 'greengrass: bad component update event'));
    next.on('ended', () => {
      if (stream === next) stream = undefined;
    });
    try {
      await next.activate();
    } catch (err) {
      await next.close().catch(() => undefined);
      log.warn(
        { err: (err as Error).message },
        'greengrass: SubscribeToComponentUpdates failed; updates will not wait for jobs',
      );
      return;
    }
    if (closed) await next.close().catch(() => undefined);
    else stream = next;
  };

  // After a nucleus reconnect the old stream is gone: subscribe again.
  const onConnected = (event: { reconnect: boolean }) => {
    if (event.reconnect) void subscribe();
  };
  connection.on('connected', onConnected);
  await subscribe();
  return {
    async close() {
      closed = true;
      clearTimeout(holdTimer);
      connection.off('connected', onConnected);
      await stream?.close().catch(() => undefined);
      stream = undefined;
    },
  };
}
