// What `ggjobs status` shows, built from the journal alone (the agent may be running or not): the
// configured job, the latest executions, and final statuses still waiting in the outbox. Pure.
import type { JournalFile, JournalProblem } from './journal.js';

export interface StatusReportExecution {
  executionNumber: number;
  /** The final status once known, else the local phase (claiming, started). */
  status: string;
  /** Local phase: claiming, started, finished (in the outbox), reported, dropped, cancelled. */
  phase: JournalFile['phase'];
  startedAt?: string;
  finishedAt?: string;
  closedAt?: string;
  reason?: string;
  step?: string;
  note?: string;
  /** 1 for the first execution of the job on this device, 2 for its first retry, ... */
  attempt: number;
}

export interface StatusReportOutboxEntry {
  executionNumber: number;
  status: string;
  reason?: string;
  sendAttempts: number;
  finishedAt?: string;
}

export interface StatusReport {
  thingName: string;
  jobId: string;
  namespaceId: string;
  journalDirectory: string;
  executions: StatusReportExecution[];
  outbox: StatusReportOutboxEntry[];
  problems: JournalProblem[];
  /** Executions of the job this device has run or claimed (a retry is a new execution). */
  attempts: number;
}

/** The status the service gave an execution it ended for us (`service has TIMED_OUT ...`), if known. */
function serviceStatus(note: string | undefined): string | undefined {
  return /^service has ([A-Z_]+)/.exec(note ?? '')?.[1];
}

export const STATUS_REPORT_LIMIT = 10;

export function buildStatusReport(
  ids: { thingName: string; jobId: string; namespaceId: string },
  journalDirectory: string,
  records: JournalFile[],
  problems: JournalProblem[],
  limit = STATUS_REPORT_LIMIT,
): StatusReport {
  const latestFirst = [...records].sort((a, b) => b.executionNumber - a.executionNumber);
  const executions = latestFirst.slice(0, limit).map((r, i) => {
    const cancelled = r.phase === 'cancelled' ? (serviceStatus(r.note) ?? 'CANCELED') : undefined;
    const dropped = r.phase === 'dropped' ? serviceStatus(r.note) : undefined;
    const e: StatusReportExecution = {
      executionNumber: r.executionNumber,
      status: dropped ?? r.outcome?.status ?? cancelled ?? r.phase.toUpperCase(),
      phase: r.phase,
      attempt: latestFirst.length - i,
    };
    if (r.startedAt) e.startedAt = r.startedAt;
    if (r.finishedAt) e.finishedAt = r.finishedAt;
    if (r.closedAt) e.closedAt = r.closedAt;
    const reason = r.outcome?.statusDetails.reason;
    if (reason) e.reason = reason;
    if (r.lastStep) e.step = `${r.lastStep.index} ${r.lastStep.name}`;
    if (r.note) e.note = r.note;
    return e;
  });
  const outbox = latestFirst
    .filter((r) => r.phase === 'finished' && r.outcome)
    .map((r) => {
      const o: StatusReportOutboxEntry = {
        executionNumber: r.executionNumber,
        status: r.outcome!.status,
        sendAttempts: r.sendAttempts ?? 0,
      };
      if (r.outcome!.statusDetails.reason) o.reason = r.outcome!.statusDetails.reason;
      if (r.finishedAt) o.finishedAt = r.finishedAt;
      return o;
    });
  return { ...ids, journalDirectory, executions, outbox, problems, attempts: records.length };
}

const PHASE_WORDS: Record<JournalFile['phase'], string> = {
  claiming: 'claiming (IN_PROGRESS requested)',
  started: 'started (running, or interrupted if the agent is not running)',
  finished: 'finished, waiting in the outbox',
  reported: 'reported',
  dropped: 'dropped (the service refused the status)',
  cancelled: 'ended by the service (canceled, removed or timed out)',
  lost: 'claimed by another agent (left alone)',
};

export function formatStatusReport(report: StatusReport): string {
  const lines = [
    `thing ${report.thingName}  job ${report.jobId}  namespace ${report.namespaceId}`,
    `journal ${report.journalDirectory}`,
    '',
  ];
  if (report.executions.length === 0) lines.push('executions: none recorded');
  else {
    // A retry (jobExecutionsRetryConfig) is a new execution of the job: each one is an attempt.
    const plural = report.attempts === 1 ? '' : 's';
    lines.push(`attempts: ${report.attempts} execution${plural} of this job on this device`);
    lines.push('executions (latest first):');
    for (const e of report.executions) {
      const parts = [
        `  #${e.executionNumber}`,
        `attempt ${e.attempt}`,
        e.status.padEnd(11),
        PHASE_WORDS[e.phase],
      ];
      if (e.startedAt) parts.push(`started ${e.startedAt}`);
      if (e.finishedAt) parts.push(`finished ${e.finishedAt}`);
      if (e.reason) parts.push(`reason ${e.reason}`);
      if (e.step) parts.push(`last step ${e.step}`);
      if (e.note) parts.push(`(${e.note})`);
      lines.push(parts.join('  '));
    }
  }
  lines.push('');
  if (report.outbox.length === 0) lines.push('outbox: empty');
  else {
    lines.push('outbox (final statuses not yet accepted by AWS IoT):');
    for (const o of report.outbox) {
      const parts = [`  #${o.executionNumber}`, o.status, `failed sends ${o.sendAttempts}`];
      if (o.reason) parts.push(`reason ${o.reason}`);
      lines.push(parts.join('  '));
    }
  }
  for (const p of report.problems) lines.push(`warning: unreadable journal record ${p.file}: ${p.problem}`);
  return `${lines.join('\n')}\n`;
}
