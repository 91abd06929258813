// DescribeJobExecution: `$aws/things/T/jobs/J/get` and `.../J/namespace-NS/get`, J may be `$next`.
import { DataPlaneError } from '../store-errors.js';
import type { OperationHandler } from './handler.js';
import type { DescribeRequest } from './requests.js';
import { jobExecutionPayload } from './responses.js';
import { NEXT_JOB_ID } from './topics.js';

export const describeJobExecution: OperationHandler<DescribeRequest> = (store, target, request) => {
  // The job document is included unless the request says includeJobDocument: false.
  const includeJobDocument = request.includeJobDocument ?? true;
  const { thingName, jobId, namespaceId } = target;
  if (jobId === undefined) throw new DataPlaneError('InvalidRequest', 'the topic names no job');
  if (jobId === NEXT_JOB_ID) {
    const next = store.nextPendingExecution(thingName, namespaceId);
    // Nothing pending: the reply carries no `execution` at all.
    if (!next) return {};
    return {
      execution: jobExecutionPayload(next, includeJobDocument ? store.jobDocument(next.jobId) : undefined),
    };
  }
  const execution = store.describeExecution(thingName, jobId, {
    ...(namespaceId === undefined ? {} : { namespaceId }),
    ...(request.executionNumber === undefined ? {} : { executionNumber: request.executionNumber }),
  });
  return {
    execution: jobExecutionPayload(execution, includeJobDocument ? store.jobDocument(jobId) : undefined),
  };
};
