// The executor's public surface: the listener needs createJobRunner; tools and tests may parse
// documents without running them.
export { joinCommandLine, splitCommandLine } from './document/command-line.js';
export { formatIssues, type ParsedJobDocument, parseJobDocument } from './document/parse.js';
export {
  type JobCondition,
  type JobPlan,
  MAX_DOCUMENT_BYTES,
  type PlannedStep,
  type StepAction,
} from './document/schema.js';
export { DEFAULT_LANG, SAFE_PATH } from './environment.js';
export { bundledHandlerDirectory, defaultHandlerDirectory } from './handler-resolution.js';
export { checkPrivilegeSetup, type PrivilegeFinding } from './privilege-check.js';
export { createJobRunner, type JobRunnerDeps } from './runner.js';
export type { FinalStatus, JobContext, JobOutcome, RunJob, StatusDetails, StepStart } from './types.js';
export type { UserAccount } from './users.js';
