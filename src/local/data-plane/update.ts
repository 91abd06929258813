// UpdateJobExecution: `$aws/things/T/jobs/J/update` and `.../J/namespace-NS/update`. The store checks
// the transition, expectedVersion and statusDetails limits; the reply carries the execution state and
// the job document only when asked for (both default to false for updates).
import { DataPlaneError } from '../store-errors.js';
import type { OperationHandler } from './handler.js';
import type { UpdateRequest } from './requests.js';
import { executionStatePayload, jobDocumentValue } from './responses.js';

export const updateJobExecution: OperationHandler<UpdateRequest> = (store, target, request) => {
  const { thingName, jobId, namespaceId } = target;
  if (jobId === undefined) throw new DataPlaneError('InvalidRequest', 'the topic names no job');
  const execution = store.updateExecution(thingName, jobId, {
    status: request.status,
    ...(namespaceId === undefined ? {} : { namespaceId }),
    ...(request.statusDetails === undefined ? {} : { statusDetails: request.statusDetails }),
    ...(request.expectedVersion === undefined ? {} : { expectedVersion: request.expectedVersion }),
    ...(request.executionNumber === undefined ? {} : { executionNumber: request.executionNumber }),
    ...(request.stepTimeoutInMinutes === undefined
      ? {}
      : { stepTimeoutInMinutes: request.stepTimeoutInMinutes }),
  });
  const body: { executionState?: object; jobDocument?: unknown } = {};
  if (request.includeJobExecutionState === true) body.executionState = executionStatePayload(execution);
  if (request.includeJobDocument === true) body.jobDocument = jobDocumentValue(store.jobDocument(jobId));
  return body;
};
