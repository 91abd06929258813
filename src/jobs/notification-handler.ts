// Subscribes to the enabled notify topic forms and acts on each notification that concerns us (it
// mentions our job, or we hold an execution: a notification may mean it went away) as
// notification-decisions.ts says: a queued execution it carries whole goes to decide() at once, and a
// describe is made only when the notification leaves something to ask once the notifications that
// arrived with it have been read.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Transport } from '../transport/types.js';
import type { ExecutionState } from './decide.js';
import { holding } from './execution-queue.js';
import type { Dispatch, ListenerEvent, ListenerLifecycle } from './listener-types.js';
import { notificationNeed } from './notification-decisions.js';
import { type NotifyForm, readNotification } from './notifications.js';
import { type JobIds, jobsTopics } from './topics.js';

export interface NotificationHandlerOptions {
  transport: Transport;
  ids: JobIds;
  config: Config;
  log: Logger;
  lifecycle: ListenerLifecycle;
  states: ReadonlyMap<number, ExecutionState>;
  /** Describes the latest execution; `stillNeeded` as SyncLoop.sync. */
  sync: (stillNeeded?: () => boolean) => Promise<void>;
  dispatch: Dispatch;
  onEvent?: (event: ListenerEvent) => void;
}

export async function subscribeNotifications(opts: NotificationHandlerOptions): Promise<void> {
  const { transport, config } = opts;
  const t = jobsTopics(opts.ids);
  const forms: Array<[NotifyForm, string, boolean]> = [
    ['perJob', t.notifyPerJob, config.listen.notifyTopics.perJob],
    ['thing', t.notifyThing, config.listen.notifyTopics.thing],
    ['thingNext', t.notifyThingNext, config.listen.notifyTopics.thingNext],
  ];
  for (const [form, topic, enabled] of forms) {
    if (enabled) await transport.subscribe(topic, (_, payload) => onNotification(opts, form, topic, payload));
  }
}

function onNotification(
  opts: NotificationHandlerOptions,
  form: NotifyForm,
  topic: string,
  payload: Buffer,
): void {
  const { lifecycle, log, onEvent } = opts;
  if (!lifecycle.ready || lifecycle.stopped) return;
  const hint = readNotification(form, payload, opts.ids.jobId);
  if (!hint.ok) {
    log.warn({ topic, problem: hint.problem }, 'ignoring malformed notification');
    onEvent?.({ type: 'ignoredPayload', topic, problem: hint.problem });
    return;
  }
  onEvent?.({ type: 'notification', form, mentionsJob: hint.mentionsJob });
  const need = notificationNeed(hint, opts.states, holding);
  for (const { executionNumber, execution } of need.described) {
    void opts.dispatch(executionNumber, { type: 'described', execution, canStart: true });
  }
  if (need.describe) {
    // Decided again once the messages that arrived with this one have been read: the service sends a
    // change on several topics at once, and notify-next often carries the execution whole right
    // after a form that does not, which then needs no describe at all.
    setImmediate(() => {
      const stillNeeded = () => notificationNeed(hint, opts.states, holding).describe;
      if (stillNeeded()) void opts.sync(stillNeeded);
    });
  } else if (!hint.mentionsJob && hint.otherJobs.length > 0) {
    log.debug({ form, otherJobs: hint.otherJobs }, "ignoring other jobs' executions");
  }
}
