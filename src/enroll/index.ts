export { describeError, isAccessDenied, isRetryableError } from './aws-errors.js';
export { callWithRetry, type RetryContext } from './call-with-retry.js';
export { ControlPlane, createIotClient } from './control-plane.js';
export {
  type AssociationDecision,
  decideAssociation,
  groupNameFromArn,
  isTarget,
  type JobFacts,
  MAX_CONTINUOUS_JOB_TARGETS,
} from './decide-association.js';
export { type EnrollDeps, type EnrollResult, enroll } from './enroll.js';
export { pickThingGroup, type ThingGroupRef } from './pick-thing-group.js';
export { backoffCap, nextDelay, type RetryDecision, retryDecision } from './retry-policy.js';
