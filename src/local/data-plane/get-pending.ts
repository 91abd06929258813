// GetPendingJobExecutions: `$aws/things/T/jobs/get` (default namespace only, as in AWS's topic table).
import type { OperationHandler } from './handler.js';
import type { GetPendingRequest } from './requests.js';
import { summaryPayload } from './responses.js';

export const getPendingJobExecutions: OperationHandler<GetPendingRequest> = (store, target) => {
  const pending = store.pendingExecutions(target.thingName, target.namespaceId);
  return {
    inProgressJobs: pending.inProgress.map(summaryPayload),
    queuedJobs: pending.queued.map(summaryPayload),
  };
};
