// Deciding, from one DescribeJob answer, whether the device's thing group still has to be added to the
// job. Pure: the common case for a fleet (already a target) costs no write call, and every reason the
// job cannot take the group is found here, before AssociateTargetsWithJob is tried.
import {
  JobNamespaceMismatchError,
  JobNotContinuousError,
  JobNotInProgressError,
  JobTargetsFullError,
} from '../errors.js';

/** AssociateTargetsWithJob: "The total number of targets associated with a job must not exceed 100." */
export const MAX_CONTINUOUS_JOB_TARGETS = 100;

/** The parts of DescribeJob's `job` the decision uses. */
export interface JobFacts {
  jobId?: string;
  jobArn?: string;
  status?: string;
  targetSelection?: string;
  targets?: string[];
  namespaceId?: string;
}

export type AssociationDecision = 'already-associated' | 'associate';

/** `arn:aws:iot:us-east-1:123456789012:thinggroup/site-a` -> `site-a`. */
export function groupNameFromArn(groupArn: string): string {
  const marker = ':thinggroup/';
  const at = groupArn.indexOf(marker);
  return at === -1 ? groupArn : groupArn.slice(at + marker.length);
}

function namespaceText(namespaceId: string | undefined): string {
  return namespaceId ? `namespace "${namespaceId}"` : 'no namespace';
}

/** Whether the group is a target of the job. */
export function isTarget(job: JobFacts, groupArn: string): boolean {
  return (job.targets ?? []).includes(groupArn);
}

/**
 * 'already-associated' when the group is a target; 'associate' when the job can take it; otherwise
 * throws the error that tells the operator what to change (naming job, namespace and group).
 * `namespaceId` is the one the device listens on (config namespaceId).
 */
export function decideAssociation(job: JobFacts, groupArn: string, namespaceId: string): AssociationDecision {
  const jobId = job.jobId ?? '(unknown)';
  const group = groupNameFromArn(groupArn);
  const where = `job "${jobId}" (${namespaceText(job.namespaceId)})`;
  // A job in another namespace publishes on other topics: even if the group is a target the device
  // would never hear of it, so this is checked first.
  if ((job.namespaceId ?? '') !== namespaceId) {
    throw new JobNamespaceMismatchError(
      `job "${jobId}" is in ${namespaceText(job.namespaceId)}, but this device is configured for namespace "${namespaceId}" (thing group "${group}"). Set namespaceId to ${job.namespaceId ? `"${job.namespaceId}"` : "the job's namespace"}, or point jobId at a job created with --namespace-id ${namespaceId}.`,
    );
  }
  if (isTarget(job, groupArn)) return 'already-associated';
  if (job.targetSelection !== 'CONTINUOUS') {
    throw new JobNotContinuousError(
      `${where} is a ${job.targetSelection ?? 'SNAPSHOT'} job; thing group "${group}" can only be added to a CONTINUOUS job. Create the job with --target-selection CONTINUOUS, or point jobId at a continuous job.`,
    );
  }
  if (job.status !== 'IN_PROGRESS') {
    throw new JobNotInProgressError(
      `${where} is ${job.status ?? 'in an unknown state'}, not IN_PROGRESS; thing group "${group}" can only be added to a job in progress. Point jobId at an active continuous job.`,
    );
  }
  const targets = job.targets?.length ?? 0;
  if (targets >= MAX_CONTINUOUS_JOB_TARGETS) {
    throw new JobTargetsFullError(
      `${where} already has ${targets} targets, the most a job can have; thing group "${group}" cannot be added. Put the devices in fewer, larger thing groups, or use another job.`,
    );
  }
  return 'associate';
}
