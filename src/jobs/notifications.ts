// Notifications are hints, never the truth: any of the three forms that mentions our job (or that
// might mean our running execution went away) leads to a describe. Pure: payload in, hint out.
import {
  executionsChangedSchema,
  nextExecutionChangedSchema,
  parsePayload,
  perJobNotificationSchema,
} from './payloads.js';

export type NotifyForm = 'perJob' | 'thing' | 'thingNext';

export type NotificationHint =
  | { ok: false; problem: string }
  /** mentionsJob: our job appears in it; otherJobs: job ids it names that are not ours. */
  | { ok: true; mentionsJob: boolean; otherJobs: string[] };

export function readNotification(form: NotifyForm, payload: Uint8Array, jobId: string): NotificationHint {
  switch (form) {
    case 'perJob': {
      // Its topic already names the job; the body is not specified, any JSON object will do.
      const res = parsePayload(payload, perJobNotificationSchema);
      return res.ok ? { ok: true, mentionsJob: true, otherJobs: [] } : res;
    }
    case 'thing': {
      const res = parsePayload(payload, executionsChangedSchema);
      if (!res.ok) return res;
      const ids = Object.values(res.value.jobs).flatMap((list) => list.map((s) => s.jobId));
      return {
        ok: true,
        mentionsJob: ids.includes(jobId),
        otherJobs: [...new Set(ids.filter((id) => id !== jobId))],
      };
    }
    case 'thingNext': {
      const res = parsePayload(payload, nextExecutionChangedSchema);
      if (!res.ok) return res;
      const id = res.value.execution?.jobId;
      return { ok: true, mentionsJob: id === jobId, otherJobs: id && id !== jobId ? [id] : [] };
    }
  }
}
