// The local AWS IoT stack for the listener tests, driven like AWS: things, a thing group and a
// continuous, namespaced job created with the real AWS SDK on the stack's control plane.
import {
  AddThingToThingGroupCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  type CreateJobCommandInput,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobExecutionCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { connectAsync, type MqttClient } from 'mqtt';
import { type LocalStack, type NotifyTopicsMode, startLocalStack } from '../../src/local/index.js';

export interface JobsStack {
  stack: LocalStack;
  iot: IoTClient;
  /** A thing in its own thing group; returns the group ARN. */
  thingInGroup(thingName: string, groupName?: string): Promise<string>;
  /** A CONTINUOUS job in `namespaceId` targeting the group. */
  createJob(
    jobId: string,
    groupArn: string,
    document?: unknown,
    namespaceId?: string,
    extra?: Partial<CreateJobCommandInput>,
  ): Promise<void>;
  /** The execution as the control plane describes it (status, statusDetails, versionNumber). */
  execution(
    thingName: string,
    jobId: string,
  ): Promise<{
    status?: string;
    statusDetails?: Record<string, string>;
    versionNumber?: number;
    executionNumber?: number;
  }>;
  cancel(thingName: string, jobId: string, force?: boolean): Promise<void>;
  /** A plain mqtt.js client on the stack's broker (for republishing, observing, meddling). */
  client(): Promise<MqttClient>;
  close(): Promise<void>;
}

export const NAMESPACE = 'ggjobs';
export const DOCUMENT = {
  version: '1.0',
  steps: [{ action: { name: 'noop', type: 'runHandler', input: { handler: 'noop.sh' } } }],
};

export async function startJobsStack(
  notifyTopics: NotifyTopicsMode = 'both',
  options: { minuteMs?: number } = {},
): Promise<JobsStack> {
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, notifyTopics, ...options });
  const iot = new IoTClient({
    endpoint: stack.controlPlaneEndpoint,
    region: stack.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const clients: MqttClient[] = [];
  let n = 0;
  return {
    stack,
    iot,
    async thingInGroup(thingName, groupName = `group-${thingName}`) {
      await iot.send(new CreateThingCommand({ thingName }));
      const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: groupName }));
      await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: groupName }));
      return group.thingGroupArn!;
    },
    async createJob(jobId, groupArn, document = DOCUMENT, namespaceId = NAMESPACE, extra = {}) {
      await iot.send(
        new CreateJobCommand({
          jobId,
          targets: [groupArn],
          targetSelection: 'CONTINUOUS',
          namespaceId,
          document: JSON.stringify(document),
          ...extra,
        }),
      );
    },
    async execution(thingName, jobId) {
      const res = await iot.send(new DescribeJobExecutionCommand({ thingName, jobId }));
      const e = res.execution;
      return {
        status: e?.status,
        statusDetails: e?.statusDetails?.detailsMap,
        versionNumber: e?.versionNumber,
        executionNumber: e?.executionNumber,
      };
    },
    async cancel(thingName, jobId, force = true) {
      await iot.send(new CancelJobExecutionCommand({ thingName, jobId, force }));
    },
    async client() {
      n += 1;
      const c = await connectAsync(stack.mqttUrl, {
        clientId: `observer-${process.pid}-${n}`,
        reconnectPeriod: 0,
      });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) await c.endAsync(true).catch(() => undefined);
      iot.destroy();
      await stack.close();
    },
  };
}
