// What a fleet operator would do in the AWS console or CLI, done through the real AWS SDK against
// the local stack: a thing in a group, and a continuous job in a namespace that the device will
// enroll its group into.
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';

export interface DemoNames {
  thingName: string;
  thingGroupName: string;
  /** The group the job is created with; the device's own group is added by enroll. */
  seedGroupName: string;
  jobId: string;
  namespaceId: string;
}

export const DEMO_NAMES: DemoNames = {
  thingName: 'demo-core-1',
  thingGroupName: 'demo-site-a',
  seedGroupName: 'demo-rollout-seed',
  jobId: 'demo-site-maintenance',
  namespaceId: 'demo-ops',
};

/** The demo's slow handler (written by `ggjobs demo` next to echo.sh): progress lines, then done. */
export const DEMO_PROGRESS_HANDLER = 'apply-update.sh';
export const DEMO_PROGRESS_SCRIPT = [
  '#!/bin/sh',
  '# ggjobs demo: a step that takes a while and reports its progress with ::progress lines.',
  'for part in 1 2 3; do',
  '  echo "::progress applying part $part of 3"',
  '  sleep 1',
  'done',
  'echo "update applied"',
  '',
].join('\n');

export function demoJobDocument(download: { url: string; sha256: string; destination: string }): object {
  return {
    version: '1.0',
    includeStdOut: 'true',
    steps: [
      {
        action: {
          name: 'Say-Hello',
          type: 'runHandler',
          input: { handler: 'echo.sh', args: ['hello from a continuous, namespaced job'], path: 'default' },
          runAsUser: '',
        },
      },
      {
        action: {
          name: 'Download-Payload',
          type: 'download',
          input: download,
          timeoutSeconds: 60,
        },
      },
      {
        action: {
          // Takes a few seconds and prints `::progress` lines: the agent's heartbeats show them.
          name: 'Apply-Update',
          type: 'runHandler',
          input: { handler: DEMO_PROGRESS_HANDLER, path: 'default' },
          timeoutSeconds: 120,
        },
      },
    ],
  };
}

export async function createDemoResources(
  client: IoTClient,
  names: DemoNames,
  document: object,
): Promise<{ jobArn: string }> {
  await client.send(new CreateThingCommand({ thingName: names.thingName }));
  await client.send(new CreateThingGroupCommand({ thingGroupName: names.thingGroupName }));
  const seed = await client.send(new CreateThingGroupCommand({ thingGroupName: names.seedGroupName }));
  await client.send(
    new AddThingToThingGroupCommand({ thingName: names.thingName, thingGroupName: names.thingGroupName }),
  );
  const job = await client.send(
    new CreateJobCommand({
      jobId: names.jobId,
      namespaceId: names.namespaceId,
      targetSelection: 'CONTINUOUS',
      targets: [seed.thingGroupArn!],
      document: JSON.stringify(document),
      description: 'ggjobs demo: echo a message and download a file with a sha256 check',
    }),
  );
  return { jobArn: job.jobArn! };
}
