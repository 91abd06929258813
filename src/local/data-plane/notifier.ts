// Publishes the Jobs events when the store reports that an execution changed (QoS 1), as AWS documents
// them: JobExecutionsChanged (the thing's pending executions in that namespace) when that list changes
// (an execution added, removed, or moved from QUEUED to IN_PROGRESS; not for a statusDetails-only
// progress update), and NextJobExecutionChanged only when the execution `$next` would return is a
// different one (another job, another execution number, or none). Topics: notificationTopics().
import type { Logger } from '../../log.js';
import type { LocalBroker } from '../broker.js';
import type { LocalStore } from '../store.js';
import { epochSeconds, jobExecutionsChangedPayload, nextJobExecutionChangedPayload } from './responses.js';
import { type NotifyTopicsMode, notificationTopics } from './topics.js';

export interface NotifierOptions {
  broker: LocalBroker;
  store: LocalStore;
  mode: NotifyTopicsMode;
  now: () => number;
  logger?: Logger;
}

export interface Notifier {
  close(): void;
}

interface ExecutionChangedEvent {
  thingName: string;
  jobId: string;
  namespaceId?: string;
}

export function startNotifier(options: NotifierOptions): Notifier {
  const { broker, store, mode, now, logger } = options;
  /**
   * Per topic: what it last carried, as a key (JobExecutionsChanged: status, job and execution number
   * of every pending execution; NextJobExecutionChanged: `jobId#executionNumber`, '' = none). Keyed by
   * topic, so the per-job topic of a job that changed is published even when another job's change in
   * the same operation already announced the same list on the thing-level topic.
   */
  const lastCarried = new Map<string, string>();
  const scheduled = new Set<NodeJS.Immediate>();

  const publish = (topics: string[], body: object) => {
    const text = JSON.stringify(body);
    for (const topic of topics) {
      broker.publish(topic, text, 1).catch((err: unknown) => {
        logger?.warn({ topic, err: err instanceof Error ? err.message : String(err) }, 'event not published');
      });
    }
  };

  const onChange = (event: ExecutionChangedEvent) => {
    const { thingName, jobId, namespaceId } = event;
    // The payloads describe the state right after this change ...
    const timestamp = epochSeconds(now());
    const topics = notificationTopics(thingName, jobId, namespaceId, mode);
    const pending = store.pendingExecutions(thingName, namespaceId);
    const pendingKey = JSON.stringify(
      [...pending.inProgress, ...pending.queued].map((e) => [e.status, e.jobId, e.executionNumber]),
    );
    const next = store.nextPendingExecution(thingName, namespaceId);
    const nextKey = next ? `${next.jobId}#${next.executionNumber}` : '';
    const changedTopics = (candidates: string[], key: string) =>
      candidates.filter((topic) => {
        if (lastCarried.get(topic) === key) return false;
        lastCarried.set(topic, key);
        return true;
      });
    const executionsTopics = changedTopics(topics.executionsChanged, pendingKey);
    const nextTopics = changedTopics(topics.nextChanged, nextKey);
    if (executionsTopics.length === 0 && nextTopics.length === 0) return;
    const executionsChanged = jobExecutionsChangedPayload(pending, timestamp);
    const nextBody =
      nextTopics.length > 0
        ? nextJobExecutionChangedPayload(next, next ? store.jobDocument(next.jobId) : undefined, timestamp)
        : undefined;
    // ... but go out after the reply to the request that caused it, which is published right after
    // the store call returns: devices see `/accepted` before the event, as they usually do with AWS.
    const immediate = setImmediate(() => {
      scheduled.delete(immediate);
      publish(executionsTopics, executionsChanged);
      if (nextBody) publish(nextTopics, nextBody);
    });
    scheduled.add(immediate);
  };

  const listener = (event: ExecutionChangedEvent) => {
    try {
      onChange(event);
    } catch (err) {
      logger?.error({ err, event }, 'jobs notification failed');
    }
  };
  store.on('execution-changed', listener);
  return {
    close() {
      store.off('execution-changed', listener);
      for (const immediate of scheduled) clearImmediate(immediate);
      scheduled.clear();
    },
  };
}
