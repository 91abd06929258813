// `enroll`: make the device's thing group a target of the configured continuous, namespaced job.
// Data plane first: a device whose enrollment is recorded in the state directory, or that already has
// an execution of the job (a look on its own Jobs topics, through the `probe` the agent passes in),
// is enrolled without any control-plane call. At a first boot with nothing found, the device waits a
// jittered, bounded time and looks again, so that about one device per thing group does the work
// below. Only then: one DescribeJob decides locally; the only write (AssociateTargetsWithJob) happens
// when needed, and a lost race with another device of the same group is resolved by describing the
// job again. Enroll never imports the jobs half: the probe is a plain function.
import type { IoTClient } from '@aws-sdk/client-iot';
import type { EnrollSettings } from '../config/schema.js';
import { AssociationRefusedError, JobTargetsFullError, ThingGroupNotFoundError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { describeError, hasErrorName } from './aws-errors.js';
import { realSleep } from './call-with-retry.js';
import { ControlPlane, createIotClient, endpointDescription } from './control-plane.js';
import { decideAssociation, groupNameFromArn, isTarget, type JobFacts } from './decide-association.js';
import {
  type EnrollmentRecord,
  enrollmentKey,
  firstBootWaitMs,
  nextReverifyAt,
  type ProbeResult,
  recordStanding,
  stepAfterProbe,
} from './decide-enrollment.js';
import { readEnrollmentRecord, writeEnrollmentRecord } from './enrollment-record.js';
import { pickThingGroup } from './pick-thing-group.js';

/**
 * Asks the Jobs data plane whether this thing has an execution of the job (a describe on
 * `$aws/things/THING/jobs/JOB/namespace-NS/get`): 'execution' when accepted, 'none' when rejected as
 * not found. Throws when it cannot tell (offline, timeout).
 */
export type ExecutionProbe = () => Promise<ProbeResult>;

export interface EnrollDeps {
  /** Defaults to a client from createIotClient(config), destroyed afterwards. */
  client?: IoTClient;
  log?: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** [0, 1); defaults to Math.random. */
  random?: () => number;
  /** Milliseconds; defaults to Date.now. */
  now?: () => number;
  /**
   * The data-plane look. Given (the agent): a fresh record or an execution found means enrolled with no
   * control-plane call. Absent (`ggjobs enroll`): the control plane is always asked.
   */
  probe?: ExecutionProbe;
  /** Where the enrollment record is kept (only with a probe); defaults to config.stateDirectory; false = none. */
  stateDirectory?: string | false;
}

export interface EnrollResult {
  /**
   * 'associated' / 'already-associated': the control plane's answer; 'has-execution': the device
   * already had an execution of the job (data plane); 'recorded': a fresh record in the state directory.
   */
  result: 'associated' | 'already-associated' | 'has-execution' | 'recorded';
  /** Known when the control plane was asked (or recorded from such an answer). */
  jobArn?: string;
  thingGroupArn?: string;
  /** Control-plane requests sent, retries included. */
  calls: number;
  /** Data-plane looks made. */
  looks: number;
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

type ControlPlaneResult = Omit<EnrollResult, 'looks' | 'result'> & {
  result: 'associated' | 'already-associated';
};

/** The control-plane half: DescribeJob, then AssociateTargetsWithJob when the group is not a target. */
async function enrollViaControlPlane(
  config: EnrollSettings,
  deps: EnrollDeps,
  log: Logger,
  now: () => number,
): Promise<ControlPlaneResult> {
  const client = deps.client ?? (await createIotClient(config));
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
    const done = (result: 'associated' | 'already-associated', arn?: string): ControlPlaneResult => {
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

/** Makes the device's thing group a target of config.jobId (in config.namespaceId). */
export async function enroll(config: EnrollSettings, deps: EnrollDeps = {}): Promise<EnrollResult> {
  const log = deps.log ?? silentLogger();
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? realSleep;
  // The record is the agent's (it comes with a probe): `ggjobs enroll` neither trusts nor writes one.
  const stateDirectory = deps.probe ? (deps.stateDirectory ?? config.stateDirectory ?? false) : false;
  const { jobId, namespaceId } = config;
  const key = enrollmentKey({ ...config, ...config.enroll });
  const reverifyMs = config.enroll.reverifyHours * 3_600_000;
  const record = stateDirectory === false ? undefined : await readEnrollmentRecord(stateDirectory);
  const standing = recordStanding(record, key, now());
  let looks = 0;

  const remember = async (via: EnrollmentRecord['via'], jobArn?: string, thingGroupArn?: string) => {
    if (stateDirectory === false) return;
    const at = now();
    const kept = record?.key === key ? record : undefined;
    const next: EnrollmentRecord = {
      key,
      via,
      jobArn: jobArn ?? kept?.jobArn,
      thingGroupArn: thingGroupArn ?? kept?.thingGroupArn,
      verifiedAt: at,
      reverifyAt: nextReverifyAt(at, reverifyMs, random),
    };
    try {
      await writeEnrollmentRecord(stateDirectory, next);
    } catch (err) {
      // Only costs a data-plane look at the next start.
      log.warn({ err: (err as Error).message, stateDirectory }, 'enroll: could not record the enrollment');
    }
  };

  if (deps.probe) {
    const probe = deps.probe;
    if (standing === 'fresh' && record) {
      log.debug({ jobId, namespaceId, verifiedAt: record.verifiedAt }, 'enroll: recorded');
      return {
        result: 'recorded',
        jobArn: record.jobArn,
        thingGroupArn: record.thingGroupArn,
        calls: 0,
        looks,
      };
    }
    const look = async (): Promise<ProbeResult | 'unknown'> => {
      looks++;
      try {
        return await probe();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'enroll: the data-plane look failed');
        return 'unknown';
      }
    };
    let step = stepAfterProbe(await look(), standing, false);
    if (step === 'wait-and-look-again') {
      const waitMs = firstBootWaitMs(config.enroll.firstBootWaitSeconds * 1000, random);
      log.info({ jobId, namespaceId, waitMs }, 'enroll: no execution yet; waiting before looking again');
      await sleep(waitMs);
      step = stepAfterProbe(await look(), standing, true);
    }
    if (step === 'enrolled') {
      log.info({ result: 'has-execution', jobId, namespaceId, calls: 0 }, 'enroll: has-execution');
      await remember('has-execution');
      return {
        result: 'has-execution',
        jobArn: record?.jobArn,
        thingGroupArn: record?.thingGroupArn,
        calls: 0,
        looks,
      };
    }
  }
  const out = await enrollViaControlPlane(config, deps, log, now);
  await remember(out.result, out.jobArn, out.thingGroupArn);
  return { ...out, looks };
}
