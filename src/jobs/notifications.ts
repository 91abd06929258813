// Notifications are hints, never the truth: any of the three forms that mentions our job (or that
// might mean our running execution went away) is checked against what the agent knows (see
// notification-decisions.ts). Pure: payload in, hint out. What a hint shows of our job's executions:
//   thing form (JobExecutionsChanged): a summary of each pending execution (status, numbers), and the
//     list is the thing's pending executions, so one we hold that is missing from it may be gone;
//   thingNext form (NextJobExecutionChanged): the execution next in line, with its job document;
//   perJob form: its body is not specified; a body shaped like JobExecutionsChanged is read as one,
//     any other JSON object tells nothing but that the job changed.
import {
  executionsChangedSchema,
  nextExecutionChangedSchema,
  parsePayload,
  perJobNotificationSchema,
} from './payloads.js';

export type NotifyForm = 'perJob' | 'thing' | 'thingNext';

/** One of our job's executions as a notification shows it (numbers absent when it leaves them out). */
export interface NotifiedExecution {
  status: string;
  executionNumber?: number;
  versionNumber?: number;
  statusDetails?: Record<string, string>;
  /** The job document (notify-next carries it); `hasDocument` tells an absent one from `undefined`. */
  jobDocument?: unknown;
  hasDocument: boolean;
}

export type NotificationHint =
  | { ok: false; problem: string }
  | {
      ok: true;
      /** Our job appears in it (a perJob notification always concerns it). */
      mentionsJob: boolean;
      /** Job ids it names that are not ours. */
      otherJobs: string[];
      /** Our job's executions it shows; undefined when its body says nothing about them. */
      executions?: NotifiedExecution[];
    };

export function readNotification(form: NotifyForm, payload: Uint8Array, jobId: string): NotificationHint {
  switch (form) {
    case 'perJob': {
      // Its topic already names the job; the body is not specified, any JSON object will do. Read
      // as JobExecutionsChanged first (what it carries in practice), else as any object.
      const changed = parsePayload(payload, executionsChangedSchema);
      if (changed.ok) return { ...fromExecutionsChanged(changed.value, jobId), mentionsJob: true };
      const res = parsePayload(payload, perJobNotificationSchema);
      return res.ok ? { ok: true, mentionsJob: true, otherJobs: [] } : res;
    }
    case 'thing': {
      const res = parsePayload(payload, executionsChangedSchema);
      return res.ok ? fromExecutionsChanged(res.value, jobId) : res;
    }
    case 'thingNext': {
      const res = parsePayload(payload, nextExecutionChangedSchema);
      if (!res.ok) return res;
      const e = res.value.execution;
      const id = e?.jobId;
      const executions: NotifiedExecution[] = [];
      if (e && id === jobId && e.status !== undefined) {
        const shown: NotifiedExecution = { status: e.status, hasDocument: 'jobDocument' in e };
        if (e.executionNumber !== undefined) shown.executionNumber = e.executionNumber;
        if (e.versionNumber !== undefined) shown.versionNumber = e.versionNumber;
        if (e.statusDetails !== undefined) shown.statusDetails = e.statusDetails;
        if (shown.hasDocument) shown.jobDocument = e.jobDocument;
        executions.push(shown);
      }
      return {
        ok: true,
        mentionsJob: id === jobId,
        otherJobs: id && id !== jobId ? [id] : [],
        executions: e && id === jobId && e.status === undefined ? undefined : executions,
      };
    }
  }
}

type ExecutionsChanged = ReturnType<typeof executionsChangedSchema.parse>;

function fromExecutionsChanged(
  value: ExecutionsChanged,
  jobId: string,
): Extract<NotificationHint, { ok: true }> {
  const executions: NotifiedExecution[] = [];
  const ids: string[] = [];
  for (const [status, list] of Object.entries(value.jobs)) {
    for (const s of list) {
      ids.push(s.jobId);
      if (s.jobId !== jobId) continue;
      const shown: NotifiedExecution = { status, hasDocument: false };
      if (s.executionNumber !== undefined) shown.executionNumber = s.executionNumber;
      if (s.versionNumber !== undefined) shown.versionNumber = s.versionNumber;
      executions.push(shown);
    }
  }
  return {
    ok: true,
    mentionsJob: ids.includes(jobId),
    otherJobs: [...new Set(ids.filter((id) => id !== jobId))],
    executions,
  };
}
