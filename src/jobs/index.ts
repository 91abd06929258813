// The listen-and-run half: what `ggjobs start`, the demo and the benchmarks use.
export { backoffDelay } from './backoff.js';
export {
  type Decision,
  decide,
  type ExecutionAction,
  type ExecutionEvent,
  type ExecutionRecord,
  type ExecutionState,
  interruptedOutcome,
  type Phase,
} from './decide.js';
export {
  type DescribeRequest,
  JobsClient,
  type JobsClientOptions,
  type UpdateRequest,
} from './jobs-client.js';
export { Journal, journalDirectory, readJournal } from './journal.js';
export { type Listener, type ListenerEvent, type ListenerOptions, startListener } from './listener.js';
export { sanitizeStatusDetails } from './sanitize.js';
export { buildStatusReport, formatStatusReport, type StatusReport } from './status-report.js';
export { type JobIds, jobsTopics, publishedTopics, subscribedTopics } from './topics.js';
