import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  ListThingGroupsForThingCommand,
  ListThingsCommand,
  RemoveThingFromThingGroupCommand,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ControlPlaneHarness,
  expectAwsError,
  groupArn,
  startControlPlane,
  thingArn,
} from './control-plane-harness.js';

let cp: ControlPlaneHarness;
beforeEach(async () => {
  cp = await startControlPlane();
});
afterEach(async () => {
  await cp.close();
});

describe('control plane: things and thing groups', () => {
  it('creates and describes a thing with AWS shapes', async () => {
    const created = await cp.iot.send(
      new CreateThingCommand({ thingName: 'core-1', attributePayload: { attributes: { site: 'lab' } } }),
    );
    expect(created.thingName).toBe('core-1');
    expect(created.thingArn).toBe(thingArn('core-1'));
    expect(created.thingId).toMatch(/^[0-9a-f-]{36}$/);
    const described = await cp.iot.send(new DescribeThingCommand({ thingName: 'core-1' }));
    expect(described).toMatchObject({
      thingName: 'core-1',
      thingArn: thingArn('core-1'),
      thingId: created.thingId,
      attributes: { site: 'lab' },
      version: 1,
      defaultClientId: 'core-1',
    });
  });

  it('answers an identical CreateThing again and refuses a conflicting one', async () => {
    const first = await cp.iot.send(new CreateThingCommand({ thingName: 't' }));
    const again = await cp.iot.send(new CreateThingCommand({ thingName: 't' }));
    expect(again.thingId).toBe(first.thingId);
    const error = await expectAwsError(
      cp.iot.send(new CreateThingCommand({ thingName: 't', attributePayload: { attributes: { a: 'b' } } })),
      'ResourceAlreadyExistsException',
      /already exists/,
    );
    expect(error.$metadata?.httpStatusCode).toBe(409);
  });

  it('reports unknown things and groups as ResourceNotFoundException (404)', async () => {
    const error = await expectAwsError(
      cp.iot.send(new DescribeThingCommand({ thingName: 'ghost' })),
      'ResourceNotFoundException',
      /ghost/,
    );
    expect(error.$metadata?.httpStatusCode).toBe(404);
    await expectAwsError(
      cp.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'ghosts' })),
      'ResourceNotFoundException',
      /ghosts/,
    );
    await cp.iot.send(new CreateThingCommand({ thingName: 't' }));
    await expectAwsError(
      cp.iot.send(new AddThingToThingGroupCommand({ thingName: 't', thingGroupName: 'ghosts' })),
      'ResourceNotFoundException',
      /ghosts/,
    );
  });

  it('describes nested thing groups with their metadata', async () => {
    await cp.iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet' }));
    const created = await cp.iot.send(
      new CreateThingGroupCommand({
        thingGroupName: 'fleet-eu',
        parentGroupName: 'fleet',
        thingGroupProperties: {
          thingGroupDescription: 'EU cores',
          attributePayload: { attributes: { r: 'eu' } },
        },
      }),
    );
    expect(created.thingGroupArn).toBe(groupArn('fleet-eu'));
    const described = await cp.iot.send(new DescribeThingGroupCommand({ thingGroupName: 'fleet-eu' }));
    expect(described.thingGroupId).toBe(created.thingGroupId);
    expect(described.thingGroupProperties).toEqual({
      thingGroupDescription: 'EU cores',
      attributePayload: { attributes: { r: 'eu' } },
    });
    expect(described.thingGroupMetadata?.parentGroupName).toBe('fleet');
    expect(described.thingGroupMetadata?.rootToParentThingGroups).toEqual([
      { groupName: 'fleet', groupArn: groupArn('fleet') },
    ]);
    expect(described.thingGroupMetadata?.creationDate).toBeInstanceOf(Date);
  });

  it('adds and removes things by name or ARN and lists the groups of a thing, paged', async () => {
    await cp.iot.send(new CreateThingCommand({ thingName: 't' }));
    for (const name of ['a', 'b', 'c'])
      await cp.iot.send(new CreateThingGroupCommand({ thingGroupName: name }));
    await cp.iot.send(new AddThingToThingGroupCommand({ thingName: 't', thingGroupName: 'a' }));
    await cp.iot.send(
      new AddThingToThingGroupCommand({ thingArn: thingArn('t'), thingGroupArn: groupArn('b') }),
    );
    await cp.iot.send(new AddThingToThingGroupCommand({ thingName: 't', thingGroupName: 'c' }));
    const first = await cp.iot.send(new ListThingGroupsForThingCommand({ thingName: 't', maxResults: 2 }));
    expect(first.thingGroups).toEqual([
      { groupName: 'a', groupArn: groupArn('a') },
      { groupName: 'b', groupArn: groupArn('b') },
    ]);
    expect(first.nextToken).toBeTypeOf('string');
    const second = await cp.iot.send(
      new ListThingGroupsForThingCommand({ thingName: 't', maxResults: 2, nextToken: first.nextToken }),
    );
    expect(second.thingGroups).toEqual([{ groupName: 'c', groupArn: groupArn('c') }]);
    expect(second.nextToken).toBeUndefined();
    await cp.iot.send(new RemoveThingFromThingGroupCommand({ thingName: 't', thingGroupName: 'b' }));
    const after = await cp.iot.send(new ListThingGroupsForThingCommand({ thingName: 't' }));
    expect(after.thingGroups?.map((group) => group.groupName)).toEqual(['a', 'c']);
  });

  it('validates names and membership requests', async () => {
    await expectAwsError(
      cp.iot.send(new CreateThingCommand({ thingName: 'bad name' })),
      'InvalidRequestException',
      /thingName: expected 1-128 characters of \[a-zA-Z0-9:_-\], got "bad name"/,
    );
    await expectAwsError(
      cp.iot.send(new CreateThingGroupCommand({ thingGroupName: 'x'.repeat(129) })),
      'InvalidRequestException',
      /thingGroupName: expected 1-128 characters/,
    );
    await expectAwsError(
      cp.iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'a' })),
      'InvalidRequestException',
      /thingName or thingArn: one of them is required/,
    );
    await expectAwsError(
      cp.iot.send(new AddThingToThingGroupCommand({ thingName: 't', thingGroupArn: thingArn('t') })),
      'InvalidRequestException',
      /thingGroupArn: expected a thinggroup ARN/,
    );
    await expectAwsError(
      cp.iot.send(new CreateThingGroupCommand({ thingGroupName: 'child', parentGroupName: 'missing' })),
      'ResourceNotFoundException',
      /missing/,
    );
  });

  it('answers operations it does not serve with UnknownOperationException (404)', async () => {
    const error = await expectAwsError(
      cp.iot.send(new ListThingsCommand({})),
      'UnknownOperationException',
      /GET \/things/,
    );
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });

  it('refuses a malformed JSON body with InvalidRequestException', async () => {
    // The SDK never sends malformed JSON, so this one request is made by hand.
    const response = await fetch(`${cp.endpoint}/things/t`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"attributePayload":',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidRequestException');
    expect(((await response.json()) as { message: string }).message).toMatch(/not valid JSON/);
    await expectAwsError(
      cp.iot.send(new DescribeThingCommand({ thingName: 't' })),
      'ResourceNotFoundException',
    );
  });
});
