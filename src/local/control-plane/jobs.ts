// Control-plane operations on jobs: CreateJob, DescribeJob, GetJobDocument, ListJobs,
// AssociateTargetsWithJob, CancelJob, DeleteJob.

import type { CreateJobInput } from '../store.js';
import { abortConfig, retryConfig, timeoutConfig } from './job-configs-input.js';
import { pageRequest, paginate } from './pagination.js';
import type { Route } from './router.js';
import {
  booleanQuery,
  enumValue,
  invalid,
  JOB_STATUSES,
  jobDocument,
  jobId,
  MAX_COMMENT_LENGTH,
  MAX_DESCRIPTION_LENGTH,
  namespaceId,
  optionalResourceName,
  optionalString,
  optionalText,
  reasonCode,
  TARGET_SELECTIONS,
  targets,
} from './validate.js';
import { jobSummary, jobView } from './views.js';

/** CreateJob members stored and returned from DescribeJob as given (the three acted on are also
 *  checked and kept typed: timeoutConfig, jobExecutionsRetryConfig, abortConfig). */
const PASSTHROUGH_MEMBERS = [
  'presignedUrlConfig',
  'jobExecutionsRolloutConfig',
  'abortConfig',
  'timeoutConfig',
  'jobTemplateArn',
  'jobExecutionsRetryConfig',
  'documentParameters',
  'schedulingConfig',
  'destinationPackageVersions',
] as const;

function createJobInput(params: Record<string, string>, body: Record<string, unknown>): CreateJobInput {
  if (body.document === undefined && optionalString(body.documentSource, 'documentSource') !== undefined) {
    throw invalid(
      'documentSource: job documents in S3 are not supported by the local stack; send document instead',
    );
  }
  if (body.document !== undefined && body.documentSource !== undefined) {
    throw invalid('document and documentSource: give only one of them');
  }
  const input: CreateJobInput = {
    jobId: jobId(params.jobId),
    targets: targets(body.targets),
    document: jobDocument(body.document),
    targetSelection: enumValue(body.targetSelection, 'targetSelection', TARGET_SELECTIONS) ?? 'SNAPSHOT',
  };
  const description = optionalText(body.description, 'description', MAX_DESCRIPTION_LENGTH);
  if (description !== undefined) input.description = description;
  const namespace = namespaceId(body.namespaceId);
  if (namespace !== undefined) input.namespaceId = namespace;
  const passthrough: Record<string, unknown> = {};
  for (const member of PASSTHROUGH_MEMBERS) {
    if (body[member] !== undefined && body[member] !== null) passthrough[member] = body[member];
  }
  input.passthrough = passthrough;
  const timeouts = timeoutConfig(body.timeoutConfig);
  if (timeouts !== undefined) input.timeoutConfig = timeouts;
  const retries = retryConfig(body.jobExecutionsRetryConfig);
  if (retries !== undefined) input.retryConfig = retries;
  const aborts = abortConfig(body.abortConfig);
  if (aborts !== undefined) input.abortConfig = aborts;
  return input;
}

function jobReply(job: { jobArn: string; jobId: string; description?: string }): object {
  return { jobArn: job.jobArn, jobId: job.jobId, description: job.description };
}

export const jobRoutes: Route[] = [
  {
    method: 'PUT',
    path: '/jobs/{jobId}',
    operation: 'CreateJob',
    handle({ params, body }, { store }) {
      return jobReply(store.createJob(createJobInput(params, body)));
    },
  },
  {
    method: 'GET',
    path: '/jobs/{jobId}',
    operation: 'DescribeJob',
    handle({ params }, { store }) {
      const id = jobId(params.jobId);
      const job = store.describeJob(id);
      return { job: jobView(job, store.jobProcessDetails(id)) };
    },
  },
  {
    method: 'GET',
    path: '/jobs/{jobId}/job-document',
    operation: 'GetJobDocument',
    handle({ params }, { store }) {
      return { document: store.getJobDocument(jobId(params.jobId)) };
    },
  },
  {
    method: 'GET',
    path: '/jobs',
    operation: 'ListJobs',
    handle({ query }, { store }) {
      const filter: Parameters<typeof store.listJobs>[0] = {};
      const status = enumValue(query.get('status'), 'status', JOB_STATUSES);
      if (status !== undefined) filter.status = status;
      const targetSelection = enumValue(query.get('targetSelection'), 'targetSelection', TARGET_SELECTIONS);
      if (targetSelection !== undefined) filter.targetSelection = targetSelection;
      const namespace = namespaceId(query.get('namespaceId'));
      if (namespace !== undefined) filter.namespaceId = namespace;
      const thingGroupName = optionalResourceName(query.get('thingGroupName'), 'thingGroupName');
      if (thingGroupName !== undefined) filter.thingGroupName = thingGroupName;
      const thingGroupId = optionalString(query.get('thingGroupId') || undefined, 'thingGroupId');
      if (thingGroupId !== undefined) filter.thingGroupId = thingGroupId;
      // AWS fills JobSummary.thingGroupId when listing by group.
      const group =
        thingGroupName !== undefined || thingGroupId !== undefined
          ? store.findThingGroup({ name: thingGroupName, id: thingGroupId })
          : undefined;
      const { page, nextToken } = paginate(store.listJobs(filter), pageRequest(query));
      return { jobs: page.map((job) => jobSummary(job, group?.thingGroupId)), nextToken };
    },
  },
  {
    method: 'POST',
    path: '/jobs/{jobId}/targets',
    operation: 'AssociateTargetsWithJob',
    handle({ params, query, body }, { store }) {
      const id = jobId(params.jobId);
      const options: { comment?: string; namespaceId?: string } = {};
      const comment = optionalText(body.comment, 'comment', MAX_COMMENT_LENGTH);
      if (comment !== undefined) options.comment = comment;
      const namespace = namespaceId(query.get('namespaceId'));
      if (namespace !== undefined) options.namespaceId = namespace;
      return jobReply(store.associateTargetsWithJob(id, targets(body.targets), options));
    },
  },
  {
    method: 'PUT',
    path: '/jobs/{jobId}/cancel',
    operation: 'CancelJob',
    handle({ params, query, body }, { store }) {
      const id = jobId(params.jobId);
      const options: { force?: boolean; comment?: string; reasonCode?: string } = {};
      const force = booleanQuery(query, 'force');
      if (force !== undefined) options.force = force;
      const comment = optionalText(body.comment, 'comment', MAX_COMMENT_LENGTH);
      if (comment !== undefined) options.comment = comment;
      const reason = reasonCode(body.reasonCode);
      if (reason !== undefined) options.reasonCode = reason;
      return jobReply(store.cancelJob(id, options));
    },
  },
  {
    method: 'DELETE',
    path: '/jobs/{jobId}',
    operation: 'DeleteJob',
    handle({ params, query }, { store }) {
      const id = jobId(params.jobId);
      const options: { force?: boolean; namespaceId?: string } = {};
      const force = booleanQuery(query, 'force');
      if (force !== undefined) options.force = force;
      const namespace = namespaceId(query.get('namespaceId'));
      if (namespace !== undefined) options.namespaceId = namespace;
      store.deleteJob(id, options);
      return undefined;
    },
  },
];
