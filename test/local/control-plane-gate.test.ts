import {
  AssociateTargetsWithJobCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeThingGroupCommand,
} from '@aws-sdk/client-iot';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ControlPlaneHarness,
  expectAwsError,
  groupArn,
  startControlPlane,
} from './control-plane-harness.js';

let cp: ControlPlaneHarness | undefined;
afterEach(async () => {
  await cp?.close();
  cp = undefined;
});

describe('control plane: request gate', () => {
  it('counts every request under its AWS operation name', async () => {
    cp = await startControlPlane();
    await cp.iot.send(new CreateThingGroupCommand({ thingGroupName: 'g' }));
    await cp.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'g' }));
    await expectAwsError(cp.iot.send(new DescribeJobCommand({ jobId: 'none' })), 'ResourceNotFoundException');
    expect(cp.gate.count('CreateThingGroup')).toBe(1);
    expect(cp.gate.count('DescribeThingGroup')).toBe(1);
    expect(cp.gate.count('DescribeJob')).toBe(1);
    expect(cp.gate.count()).toBe(3);
  });

  it('answers a throttled operation with ThrottlingException (400) and still counts it', async () => {
    cp = await startControlPlane({ AssociateTargetsWithJob: { ratePerSecond: 0 } });
    await cp.iot.send(new CreateThingGroupCommand({ thingGroupName: 'g' }));
    const error = await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'any', targets: [groupArn('g')] })),
      'ThrottlingException',
      /Rate exceeded for AssociateTargetsWithJob/,
    );
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(cp.gate.count('AssociateTargetsWithJob')).toBe(1);
    // once the limit is lifted the same request reaches the store (and finds no job)
    cp.gate.setLimit('AssociateTargetsWithJob', undefined);
    await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'any', targets: [groupArn('g')] })),
      'ResourceNotFoundException',
    );
    expect(cp.gate.count('AssociateTargetsWithJob')).toBe(2);
  });

  it('throttles after the burst', async () => {
    cp = await startControlPlane({ DescribeThingGroup: { ratePerSecond: 0, burst: 2 } });
    await cp.iot.send(new CreateThingGroupCommand({ thingGroupName: 'g' }));
    await cp.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'g' }));
    await cp.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'g' }));
    await expectAwsError(
      cp.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'g' })),
      'ThrottlingException',
    );
  });
});
