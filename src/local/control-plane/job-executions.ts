// Control-plane operations on job executions: ListJobExecutionsForJob, ListJobExecutionsForThing,
// DescribeJobExecution, CancelJobExecution.

import { thingArn } from '../arn.js';
import { pageRequest, paginate } from './pagination.js';
import type { Route } from './router.js';
import {
  booleanQuery,
  executionStatus,
  integerQuery,
  jobId,
  namespaceId,
  optionalInteger,
  optionalObject,
  resourceName,
  statusDetails,
} from './validate.js';
import { executionSummary, executionView } from './views.js';

export const jobExecutionRoutes: Route[] = [
  {
    method: 'GET',
    path: '/jobs/{jobId}/things',
    operation: 'ListJobExecutionsForJob',
    handle({ params, query }, { store }) {
      const executions = store.listExecutionsForJob(
        jobId(params.jobId),
        executionStatus(query.get('status')),
      );
      const { page, nextToken } = paginate(executions, pageRequest(query));
      return {
        executionSummaries: page.map((execution) => ({
          thingArn: thingArn(store.region, store.accountId, execution.thingName),
          jobExecutionSummary: executionSummary(execution),
        })),
        nextToken,
      };
    },
  },
  {
    method: 'GET',
    path: '/things/{thingName}/jobs',
    operation: 'ListJobExecutionsForThing',
    handle({ params, query }, { store }) {
      const thingName = resourceName(params.thingName, 'thingName');
      store.describeThing(thingName);
      const filter: Parameters<typeof store.listExecutionsForThing>[1] = {
        status: executionStatus(query.get('status')),
        namespaceId: namespaceId(query.get('namespaceId')),
      };
      const jobIdFilter = query.get('jobId');
      if (jobIdFilter !== null && jobIdFilter !== '') filter.jobId = jobId(jobIdFilter);
      const { page, nextToken } = paginate(
        store.listExecutionsForThing(thingName, filter),
        pageRequest(query),
      );
      return {
        executionSummaries: page.map((execution) => ({
          jobId: execution.jobId,
          jobExecutionSummary: executionSummary(execution),
        })),
        nextToken,
      };
    },
  },
  {
    method: 'GET',
    path: '/things/{thingName}/jobs/{jobId}',
    operation: 'DescribeJobExecution',
    handle({ params, query }, { store }) {
      const execution = store.describeJobExecution(
        resourceName(params.thingName, 'thingName'),
        jobId(params.jobId),
        integerQuery(query, 'executionNumber', 0, Number.MAX_SAFE_INTEGER),
      );
      return { execution: executionView(store, execution) };
    },
  },
  {
    method: 'PUT',
    path: '/things/{thingName}/jobs/{jobId}/cancel',
    operation: 'CancelJobExecution',
    handle({ params, query, body }, { store }) {
      const thingName = resourceName(params.thingName, 'thingName');
      const id = jobId(params.jobId);
      store.cancelJobExecution(thingName, id, {
        force: booleanQuery(query, 'force'),
        expectedVersion: optionalInteger(body.expectedVersion, 'expectedVersion', 0, Number.MAX_SAFE_INTEGER),
        statusDetails: statusDetails(optionalObject(body.statusDetails, 'statusDetails')),
      });
      return undefined;
    },
  },
];
