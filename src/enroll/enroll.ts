// `enroll`: make the device's thing group a target of the configured continuous, namespaced job.
// One DescribeJob decides locally; the only write (AssociateTargetsWithJob) happens when needed, and a
// lost race with another device of the same group is resolved by describing the job again.
import type { IoTClient } from '@aws-sdk/client-iot';
import type { EnrollSettings } from '../config/schema.js';
import { AssociationRefusedError, JobTargetsFullError, ThingGroupNotFoundError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { describeError, hasErrorName } from './aws-errors.js';
import { realSleep } from './call-with-retry.js';
import { ControlPlane, createIotClient, endpointDescription } from './control-plane.js';
import { decideAssociation, groupNameFromArn, isTarget, type JobFacts } from './decide-association.js';
import { pickThingGroup } from './pick-thing-group.js';

export interface EnrollDeps {
  /** Defaults to a client from createIotClient(config), destroyed afterwards. */
  client?: IoTClient;
  log?: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** [0, 1); defaults to Math.random. */
  random?: () => number;
  /** Milliseconds; defaults to Date.now. */
  now?: () => number;
}

export interface EnrollResult {
  result: 'associated' | 'already-associated';
  jobArn: string;
  thingGroupArn: string;
  /** Control-plane requests sent, retries included. */
  calls: number;
}

async function resolveThingGroupArn(
  config: EnrollSettings,
  plane: ControlPlane,
  log: Logger,
): Promise<string> {
  const { thingGroupArn, thingGroupName, groupPattern } = config.enroll;
  if (thingGroupArn) return thingGroupArn;
  if (thingGroupName) return plane.describeThingGroup(thingGroupName);
  const groups = await plane.listThingGroupsForThing(config.thingName);
  const picked = pickThingGroup(groups, config.thingName, groupPattern);
  log.info(
    { thingGroup: picked.groupName, candidates: groups.length },
    'thing group resolved from the thing',
  );
  return picked.groupArn;
}

function jobArnOf(job: JobFacts, config: EnrollSettings, fallback?: string): string {
  return job.jobArn ?? fallback ?? `arn:aws:iot:${config.region}:unknown:job/${config.jobId}`;
}

/** Makes the device's thing group a target of config.jobId (in config.namespaceId). */
export async function enroll(config: EnrollSettings, deps: EnrollDeps = {}): Promise<EnrollResult> {
  const log = deps.log ?? silentLogger();
  const now = deps.now ?? Date.now;
  const client = deps.client ?? createIotClient(config);
  const calls = { count: 0 };
  const plane = new ControlPlane(
    client,
    {
      retry: config.enroll.retry,
      sleep: deps.sleep ?? realSleep,
      random: deps.random ?? Math.random,
      now,
      startedAt: now(),
      log,
      calls,
      endpointDescription: endpointDescription(config),
    },
    config.region,
  );
  const { jobId, namespaceId } = config;
  try {
    const groupArn = await resolveThingGroupArn(config, plane, log);
    const group = groupNameFromArn(groupArn);
    const job = await plane.describeJob(jobId);
    const done = (result: EnrollResult['result'], arn?: string): EnrollResult => {
      log.info(
        { result, jobId, namespaceId, thingGroupArn: groupArn, calls: calls.count },
        `enroll: ${result}`,
      );
      return { result, jobArn: jobArnOf(job, config, arn), thingGroupArn: groupArn, calls: calls.count };
    };

    if (decideAssociation(job, groupArn, namespaceId) === 'already-associated') {
      if (job.status !== 'IN_PROGRESS') {
        log.warn(
          { jobId, status: job.status },
          'the thing group is a target, but the job is not in progress',
        );
      }
      return done('already-associated');
    }

    const comment = config.enroll.comment ?? `ggjobs enroll: thing ${config.thingName}`;
    try {
      const out = await plane.associate({ jobId, namespaceId, groupArn, comment });
      return done('associated', out.jobArn);
    } catch (err) {
      const raceable =
        hasErrorName(err, 'LimitExceededException') ||
        hasErrorName(err, 'InvalidRequestException') ||
        hasErrorName(err, 'ResourceNotFoundException');
      if (!raceable) throw err;
      // Another device of the same group may have won the race (or filled the last slot) between our
      // DescribeJob and AssociateTargetsWithJob: look again before failing.
      log.info({ jobId, error: describeError(err) }, 'association refused; describing the job again');
      // (A job deleted meanwhile ends here with JobNotFoundError.)
      const again = await plane.describeJob(jobId);
      if (isTarget(again, groupArn)) return done('already-associated');
      // The job may have changed meanwhile (cancelled, filled up): that error is the most precise one.
      decideAssociation(again, groupArn, namespaceId);
      const where = `job "${jobId}" (namespace "${namespaceId}"), thing group "${group}"`;
      if (hasErrorName(err, 'LimitExceededException')) {
        throw new JobTargetsFullError(
          `AWS IoT refused to add thing group "${group}" to job "${jobId}" (namespace "${namespaceId}"): ${describeError(err)}. The job has reached its target limit; put the devices in fewer, larger thing groups, or use another job.`,
          { cause: err },
        );
      }
      if (hasErrorName(err, 'ResourceNotFoundException')) {
        throw new ThingGroupNotFoundError(
          `thing group "${groupArn}" not found when adding it to job "${jobId}" (namespace "${namespaceId}"): ${describeError(err)}. Check enroll.thingGroupArn / thingGroupName.`,
          { cause: err },
        );
      }
      throw new AssociationRefusedError(
        `AWS IoT refused to add the group to ${where}: ${describeError(err)}`,
        { cause: err },
      );
    }
  } finally {
    if (!deps.client) client.destroy();
  }
}
