// The Jobs MQTT topic grammar, as the local stack understands it (pure; no I/O).
//
// Requests (T = thing, J = job id or `$next` where noted, NS = namespace id):
//   $aws/things/T/jobs/get                        GetPendingJobExecutions      (default namespace)
//   $aws/things/T/jobs/start-next                 StartNextPendingJobExecution (default namespace)
//   $aws/things/T/jobs/J/get                      DescribeJobExecution, J may be $next
//   $aws/things/T/jobs/J/update                   UpdateJobExecution
//   $aws/things/T/jobs/J/namespace-NS/get         DescribeJobExecution in NS, J may be $next
//   $aws/things/T/jobs/J/namespace-NS/update      UpdateJobExecution in NS
// Replies go to the request topic + `/accepted` or `/rejected`. Events (never requests):
//   $aws/things/T/jobs/notify, notify-next, notify-namespace-NS, notify-next-namespace-NS,
//   $aws/things/T/jobs/J/notify-namespace-NS/ (per job, trailing slash, as AWS's API reference writes it).
// Anything else under $aws/things/T/jobs/ is a request to a topic that maps to no API: InvalidTopic.
import { JOB_ID, NAMESPACE_ID, RESOURCE_NAME } from '../aws-ids.js';
import type { NotifyTopicsMode } from '../defaults.js';

export type DataPlaneOperation =
  'DescribeJobExecution' | 'UpdateJobExecution' | 'GetPendingJobExecutions' | 'StartNextPendingJobExecution';

/** The request-gate / requestCount name of a data-plane operation. */
export function gateOperation(operation: DataPlaneOperation): string {
  return `data:${operation}`;
}

export const NEXT_JOB_ID = '$next';

export type ParsedJobsTopic =
  /** A request the data plane answers. */
  | {
      kind: 'request';
      operation: DataPlaneOperation;
      thingName: string;
      /** Describe and update only; `$next` for the next pending execution (describe only). */
      jobId?: string;
      /** undefined = the default namespace. */
      namespaceId?: string;
    }
  /** Under $aws/things/T/jobs/ but mapping to no API: answered `/rejected` with InvalidTopic. */
  | { kind: 'invalid'; thingName: string; reason: string }
  /** Not ours to answer: replies, events, and every topic outside $aws/things/T/jobs/. */
  | { kind: 'ignored' };

const NAMESPACE_PREFIX = 'namespace-';

function isJobId(value: string, allowNext: boolean): boolean {
  return (allowNext && value === NEXT_JOB_ID) || JOB_ID.test(value);
}

function namespaceOf(segment: string): string | undefined {
  if (!segment.startsWith(NAMESPACE_PREFIX)) return undefined;
  const namespaceId = segment.slice(NAMESPACE_PREFIX.length);
  return NAMESPACE_ID.test(namespaceId) ? namespaceId : undefined;
}

/** Thing-level and per-job notification topics, which clients may publish to without an answer. */
function isEventTopic(rest: string[]): boolean {
  const [first, second, third] = rest;
  if (rest.length === 1 && first !== undefined) {
    return (
      first === 'notify' ||
      first === 'notify-next' ||
      first.startsWith('notify-namespace-') ||
      first.startsWith('notify-next-namespace-')
    );
  }
  // $aws/things/T/jobs/J/notify-namespace-NS/ (and without the trailing slash, to be forgiving).
  return (
    (rest.length === 2 || (rest.length === 3 && third === '')) &&
    second !== undefined &&
    second.startsWith('notify-namespace-')
  );
}

export function parseJobsTopic(topic: string): ParsedJobsTopic {
  const levels = topic.split('/');
  if (levels.length < 5 || levels[0] !== '$aws' || levels[1] !== 'things' || levels[3] !== 'jobs') {
    return { kind: 'ignored' };
  }
  const thingName = levels[2] ?? '';
  const rest = levels.slice(4);
  const last = rest[rest.length - 1];
  // Replies are published by the service (here: us); a client publishing one gets no answer.
  if (last === 'accepted' || last === 'rejected') return { kind: 'ignored' };
  if (isEventTopic(rest)) return { kind: 'ignored' };
  const invalid = (reason: string): ParsedJobsTopic => ({ kind: 'invalid', thingName, reason });
  if (!RESOURCE_NAME.test(thingName)) {
    return invalid(`thing name '${thingName}' must be 1-128 characters of [a-zA-Z0-9:_-]`);
  }

  const [first, second, third] = rest;
  if (rest.length === 1 && first === 'get') {
    return { kind: 'request', operation: 'GetPendingJobExecutions', thingName };
  }
  if (rest.length === 1 && first === 'start-next') {
    return { kind: 'request', operation: 'StartNextPendingJobExecution', thingName };
  }
  if ((rest.length === 2 || rest.length === 3) && first !== undefined) {
    const action = rest.length === 2 ? second : third;
    let namespaceId: string | undefined;
    if (rest.length === 3) {
      namespaceId = namespaceOf(second ?? '');
      if (namespaceId === undefined) {
        return invalid(`'${second}' is not namespace-NS with NS of 1-64 characters of [a-zA-Z0-9_-]`);
      }
    }
    if (action === 'get' || action === 'update') {
      const operation = action === 'get' ? 'DescribeJobExecution' : 'UpdateJobExecution';
      if (!isJobId(first, action === 'get')) {
        return invalid(
          action === 'get'
            ? `job id '${first}' must be $next or 1-64 characters of [a-zA-Z0-9_-]`
            : `job id '${first}' must be 1-64 characters of [a-zA-Z0-9_-]`,
        );
      }
      return {
        kind: 'request',
        operation,
        thingName,
        jobId: first,
        ...(namespaceId === undefined ? {} : { namespaceId }),
      };
    }
  }
  return invalid(`no Jobs API is published on '${topic}'`);
}

/** Where the answer to a request on `requestTopic` goes. */
export function replyTopic(requestTopic: string, outcome: 'accepted' | 'rejected'): string {
  return `${requestTopic}/${outcome}`;
}

export { NOTIFY_TOPICS_MODES, type NotifyTopicsMode } from '../defaults.js';

export interface NotificationTopics {
  /** Topics that carry JobExecutionsChanged. */
  executionsChanged: string[];
  /** Topics that carry NextJobExecutionChanged. */
  nextChanged: string[];
}

/**
 * The topics a change of `jobId`'s execution on `thingName` is announced on.
 *
 * Namespaced jobs: 'documented' = only the per-job form of AWS's API reference
 * (`$aws/things/T/jobs/J/notify-namespace-NS/`, JobExecutionsChanged); 'observed' = only the
 * thing-level forms real devices receive (`notify-namespace-NS` and `notify-next-namespace-NS`);
 * 'both' = all three.
 * Default namespace: AWS documents exactly `notify` and `notify-next` and there is no per-job form, so
 * the documented and the observed topics are the same two, published whatever the mode.
 */
export function notificationTopics(
  thingName: string,
  jobId: string,
  namespaceId: string | undefined,
  mode: NotifyTopicsMode,
): NotificationTopics {
  const base = `$aws/things/${thingName}/jobs`;
  if (namespaceId === undefined) {
    return { executionsChanged: [`${base}/notify`], nextChanged: [`${base}/notify-next`] };
  }
  const perJob = `${base}/${jobId}/notify-namespace-${namespaceId}/`;
  const thing = `${base}/notify-namespace-${namespaceId}`;
  const thingNext = `${base}/notify-next-namespace-${namespaceId}`;
  switch (mode) {
    case 'documented':
      return { executionsChanged: [perJob], nextChanged: [] };
    case 'observed':
      return { executionsChanged: [thing], nextChanged: [thingNext] };
    default:
      return { executionsChanged: [perJob, thing], nextChanged: [thingNext] };
  }
}
