// The four AWS IoT control-plane calls enroll makes, each wrapped in our retry loop and with the
// service's final errors turned into ggjobs errors that name the job, the group and the cause.
// The AWS SDK is imported only when a control-plane call is about to be made (it costs tens of MB and
// a large part of a second to load): a device that is already enrolled never loads it.
import type { IoTClient } from '@aws-sdk/client-iot';
import { cjsExports } from '../cjs-interop.js';
import type { EnrollSettings } from '../config/schema.js';
import {
  AssociationRefusedError,
  ControlPlaneAccessDeniedError,
  JobNotFoundError,
  ThingGroupNotFoundError,
} from '../errors.js';
import { describeError, hasErrorName, isAccessDenied } from './aws-errors.js';
import { callWithRetry, type RetryContext } from './call-with-retry.js';
import type { JobFacts } from './decide-association.js';
import type { ThingGroupRef } from './pick-thing-group.js';

/** Safety valve against a service that keeps returning a nextToken. */
const MAX_GROUP_PAGES = 100;

/**
 * The client enroll uses when none is given: default credential provider chain (never credentials
 * written by hand), region from config, endpoint from enroll.endpoint, and the SDK's own retries OFF
 * (maxAttempts 1): we retry ourselves, with full jitter and a total-time bound, and LimitExceeded must
 * not be retried at all.
 */
export async function createIotClient(config: EnrollSettings): Promise<IoTClient> {
  // The SDK checks the Node version when a client is built; package-lock pins a release that supports
  // Node 20, and its notice about *future* releases needing Node 22 is not actionable on a device.
  // Set here (not only in the CLI) so every command and library use that builds a client stays quiet.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { IoTClient } = await loadSdk();
  return new IoTClient({
    region: config.region,
    ...(config.enroll.endpoint ? { endpoint: config.enroll.endpoint } : {}),
    maxAttempts: 1,
    // A control-plane call that hangs must end so the retry policy can act on it.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
  });
}

let sdk: Promise<typeof import('@aws-sdk/client-iot')> | undefined;

/** The AWS SDK's IoT client module, loaded on first use. */
export function loadSdk(): Promise<typeof import('@aws-sdk/client-iot')> {
  sdk ??= import('@aws-sdk/client-iot').then(cjsExports);
  return sdk;
}

export function endpointDescription(config: EnrollSettings): string {
  return config.enroll.endpoint ?? `iot.${config.region}.amazonaws.com`;
}

function accessDenied(operation: string, subject: string, err: unknown): ControlPlaneAccessDeniedError {
  return new ControlPlaneAccessDeniedError(
    `AWS IoT refused ${operation} (${subject}): ${describeError(err)}. The device's AWS credentials must allow iot:${operation} on it (see README "Enrolling (for operators)").`,
    { cause: err },
  );
}

function refused(operation: string, subject: string, err: unknown): AssociationRefusedError {
  return new AssociationRefusedError(`AWS IoT refused ${operation} (${subject}): ${describeError(err)}`, {
    cause: err,
  });
}

/** Maps a final (not retried) error of any call; `notFound` builds the call's ResourceNotFound error. */
function finalError(
  operation: string,
  subject: string,
  err: unknown,
  notFound: (err: unknown) => Error,
): unknown {
  if (hasErrorName(err, 'ResourceNotFoundException')) return notFound(err);
  if (isAccessDenied(err)) return accessDenied(operation, subject, err);
  if (hasErrorName(err, 'InvalidRequestException')) return refused(operation, subject, err);
  // Anything else the service answered (a 4xx we do not know) is a refusal too; other errors
  // (bugs, aborted processes) pass through unchanged.
  if (typeof err === 'object' && err !== null && '$metadata' in err) return refused(operation, subject, err);
  return err;
}

export class ControlPlane {
  constructor(
    private readonly client: IoTClient,
    private readonly ctx: RetryContext,
    private readonly region: string,
  ) {}

  async describeJob(jobId: string): Promise<JobFacts> {
    const { DescribeJobCommand } = await loadSdk();
    const subject = `job "${jobId}"`;
    const notFound = (err: unknown) =>
      new JobNotFoundError(
        `job "${jobId}" not found in region ${this.region} (the account of the device's credentials). Check jobId and region, or create the job (README "Enrolling (for operators)").`,
        { cause: err },
      );
    try {
      const out = await callWithRetry(
        'DescribeJob',
        subject,
        () => this.client.send(new DescribeJobCommand({ jobId })),
        this.ctx,
      );
      if (!out.job) throw notFound(undefined);
      return out.job;
    } catch (err) {
      throw finalError('DescribeJob', subject, err, notFound);
    }
  }

  async describeThingGroup(thingGroupName: string): Promise<string> {
    const { DescribeThingGroupCommand } = await loadSdk();
    const subject = `thing group "${thingGroupName}"`;
    const notFound = (err: unknown) =>
      new ThingGroupNotFoundError(
        `thing group "${thingGroupName}" (enroll.thingGroupName) not found in region ${this.region}. Check the name, or create the group and add this device's thing to it.`,
        { cause: err },
      );
    try {
      const out = await callWithRetry(
        'DescribeThingGroup',
        subject,
        () => this.client.send(new DescribeThingGroupCommand({ thingGroupName })),
        this.ctx,
      );
      if (!out.thingGroupArn) throw notFound(undefined);
      return out.thingGroupArn;
    } catch (err) {
      throw finalError('DescribeThingGroup', subject, err, notFound);
    }
  }

  async listThingGroupsForThing(thingName: string): Promise<ThingGroupRef[]> {
    const { ListThingGroupsForThingCommand } = await loadSdk();
    const subject = `thing "${thingName}"`;
    const notFound = (err: unknown) =>
      new ThingGroupNotFoundError(
        `thing "${thingName}" not found in region ${this.region}, so its thing group cannot be found. Check thingName, or set enroll.thingGroupName.`,
        { cause: err },
      );
    const groups: ThingGroupRef[] = [];
    let nextToken: string | undefined;
    try {
      for (let page = 0; page < MAX_GROUP_PAGES; page++) {
        const token = nextToken;
        const out = await callWithRetry(
          'ListThingGroupsForThing',
          subject,
          () =>
            this.client.send(
              new ListThingGroupsForThingCommand({ thingName, nextToken: token, maxResults: 250 }),
            ),
          this.ctx,
        );
        for (const g of out.thingGroups ?? []) {
          if (g.groupName && g.groupArn) groups.push({ groupName: g.groupName, groupArn: g.groupArn });
        }
        nextToken = out.nextToken || undefined;
        if (!nextToken) break;
      }
    } catch (err) {
      throw finalError('ListThingGroupsForThing', subject, err, notFound);
    }
    return groups;
  }

  /**
   * AssociateTargetsWithJob. Rethrows the service's LimitExceeded / InvalidRequest / ResourceNotFound
   * errors unchanged: the caller resolves a lost race by describing the job again before failing.
   */
  async associate(input: {
    jobId: string;
    namespaceId: string;
    groupArn: string;
    comment?: string;
  }): Promise<{ jobArn?: string }> {
    const { AssociateTargetsWithJobCommand } = await loadSdk();
    const subject = `job "${input.jobId}", thing group "${input.groupArn}"`;
    try {
      return await callWithRetry(
        'AssociateTargetsWithJob',
        subject,
        () =>
          this.client.send(
            new AssociateTargetsWithJobCommand({
              targets: [input.groupArn],
              jobId: input.jobId,
              namespaceId: input.namespaceId,
              comment: input.comment,
            }),
          ),
        this.ctx,
      );
    } catch (err) {
      if (isAccessDenied(err)) throw accessDenied('AssociateTargetsWithJob', subject, err);
      throw err;
    }
  }
}
