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
  const executions = latestFirst.slice(0, limit).map((r) => {
    const e: StatusReportExecution = {
      executionNumber: r.executionNumber,
      status: r.outcome?.status ?? (r.phase === 'cancelled' ? 'CANCELED' : r.phase.toUpperCase()),
      phase: r.phase,
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
  return { ...ids, journalDirectory, executions, outbox, problems };
}

const PHASE_WORDS: Record<JournalFile['phase'], string> = {
  claiming: 'claiming (IN_PROGRESS requested)',
  started: 'started (running, or interrupted if the agent is not running)',
  finished: 'finished, waiting in the outbox',
  reported: 'reported',
  dropped: 'dropped (the service refused the status)',
  cancelled: 'cancelled by the service',
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
    lines.push('executions (latest first):');
    for (const e of report.executions) {
      const parts = [`  #${e.executionNumber}`, e.status.padEnd(11), PHASE_WORDS[e.phase]];
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
