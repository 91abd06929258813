// A local AWS IoT stack seeded for enroll tests: things, thing groups and jobs created through the
// real AWS SDK, as an operator would.
import {
  AddThingToThingGroupCommand,
  CancelJobCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import type { Config } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/validate.js';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface EnrollFixture {
  stack: LocalStack;
  /** The operator's client (SDK retries off, so throttling is visible). */
  admin: IoTClient;
  groupArn(name: string): string;
  createThing(name: string, groups?: string[]): Promise<void>;
  createGroup(name: string): Promise<string>;
  createJob(
    jobId: string,
    options?: {
      targetSelection?: 'CONTINUOUS' | 'SNAPSHOT';
      namespaceId?: string | null;
      targets?: string[];
    },
  ): Promise<void>;
  cancelJob(jobId: string): Promise<void>;
  jobTargets(jobId: string): Promise<string[]>;
  /** A device's configuration against this stack. */
  config(patch?: Record<string, unknown>): Config;
  /** A device's IoT client (what enroll would build, with local credentials). */
  deviceClient(): IoTClient;
  close(): Promise<void>;
}

export const NAMESPACE = 'acme-ops';
export const JOB_ID = 'site-maintenance';

export async function startEnrollFixture(): Promise<EnrollFixture> {
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
  const clients: IoTClient[] = [];
  const newClient = () => {
    const client = new IoTClient({
      endpoint: stack.controlPlaneEndpoint,
      region: stack.region,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const admin = newClient();
  const groupArn = (name: string) => `arn:aws:iot:${stack.region}:${stack.accountId}:thinggroup/${name}`;
  const createdGroups = new Set<string>();
  const createGroup = async (name: string) => {
    if (!createdGroups.has(name)) {
      await admin.send(new CreateThingGroupCommand({ thingGroupName: name }));
      createdGroups.add(name);
    }
    return groupArn(name);
  };
  return {
    stack,
    admin,
    groupArn,
    createGroup,
    async createThing(name, groups = []) {
      await admin.send(new CreateThingCommand({ thingName: name }));
      for (const group of groups) {
        await createGroup(group);
        await admin.send(new AddThingToThingGroupCommand({ thingName: name, thingGroupName: group }));
      }
    },
    async createJob(jobId, options = {}) {
      const targets = options.targets ?? [await createGroup('seed-group')];
      await admin.send(
        new CreateJobCommand({
          jobId,
          targets,
          document: JSON.stringify({ version: '1.0', steps: [] }),
          targetSelection: options.targetSelection ?? 'CONTINUOUS',
          ...(options.namespaceId === null ? {} : { namespaceId: options.namespaceId ?? NAMESPACE }),
        }),
      );
    },
    async cancelJob(jobId) {
      await admin.send(new CancelJobCommand({ jobId }));
    },
    async jobTargets(jobId) {
      const out = await admin.send(new DescribeJobCommand({ jobId }));
      return out.job?.targets ?? [];
    },
    config(patch = {}) {
      const { enroll, ...rest } = patch as { enroll?: Record<string, unknown> };
      return validateConfig({
        thingName: 'core-1',
        region: stack.region,
        jobId: JOB_ID,
        namespaceId: NAMESPACE,
        transport: { kind: 'mqtt', url: stack.mqttUrl },
        ...rest,
        enroll: {
          endpoint: stack.controlPlaneEndpoint,
          retry: { maxAttempts: 10, baseDelayMs: 20, maxDelayMs: 200, maxTotalMs: 20_000 },
          ...enroll,
        },
      });
    },
    deviceClient: newClient,
    async close() {
      for (const client of clients) client.destroy();
      await stack.close();
    },
  };
}
