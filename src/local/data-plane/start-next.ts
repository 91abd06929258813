// StartNextPendingJobExecution: `$aws/things/T/jobs/start-next` (default namespace only). The store
// moves the next QUEUED execution to IN_PROGRESS (an IN_PROGRESS one is returned unchanged); the reply
// has no `execution` when nothing is pending.
import type { OperationHandler } from './handler.js';
import type { StartNextRequest } from './requests.js';
import { jobExecutionPayload } from './responses.js';

export const startNextPendingJobExecution: OperationHandler<StartNextRequest> = (store, target, request) => {
  const execution = store.startNextPendingExecution(target.thingName, target.namespaceId, {
    ...(request.statusDetails === undefined ? {} : { statusDetails: request.statusDetails }),
    ...(request.stepTimeoutInMinutes === undefined
      ? {}
      : { stepTimeoutInMinutes: request.stepTimeoutInMinutes }),
  });
  if (!execution) return {};
  return { execution: jobExecutionPayload(execution, store.jobDocument(execution.jobId)) };
};
