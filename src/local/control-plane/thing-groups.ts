// Control-plane operations on thing groups: CreateThingGroup, DescribeThingGroup,
// AddThingToThingGroup, RemoveThingFromThingGroup.

import { parseIotArn } from '../arn.js';
import type { Route } from './router.js';
import {
  invalid,
  MAX_DESCRIPTION_LENGTH,
  optionalObject,
  optionalResourceName,
  optionalString,
  optionalText,
  resourceName,
  stringMap,
} from './validate.js';

/** AddThingToThingGroup and RemoveThingFromThingGroup accept a name or an ARN for each side. */
function nameOrArn(body: Record<string, unknown>, kind: 'thing' | 'thingGroup'): string {
  const nameField = `${kind}Name`;
  const arnField = `${kind}Arn`;
  const name = optionalResourceName(body[nameField], nameField);
  if (name !== undefined) return name;
  const arnText = optionalString(body[arnField], arnField);
  if (arnText === undefined) throw invalid(`${nameField} or ${arnField}: one of them is required`);
  const arn = parseIotArn(arnText);
  const type = kind === 'thing' ? 'thing' : 'thinggroup';
  if (!arn || arn.type !== type) throw invalid(`${arnField}: expected a ${type} ARN, got '${arnText}'`);
  return resourceName(arn.name, arnField);
}

export const thingGroupRoutes: Route[] = [
  {
    method: 'PUT',
    path: '/thing-groups/addThingToThingGroup',
    operation: 'AddThingToThingGroup',
    handle({ body }, { store }) {
      store.addThingToThingGroup(nameOrArn(body, 'thing'), nameOrArn(body, 'thingGroup'));
      return {};
    },
  },
  {
    method: 'PUT',
    path: '/thing-groups/removeThingFromThingGroup',
    operation: 'RemoveThingFromThingGroup',
    handle({ body }, { store }) {
      store.removeThingFromThingGroup(nameOrArn(body, 'thing'), nameOrArn(body, 'thingGroup'));
      return {};
    },
  },
  {
    method: 'POST',
    path: '/thing-groups/{thingGroupName}',
    operation: 'CreateThingGroup',
    handle({ params, body }, { store }) {
      const properties = optionalObject(body.thingGroupProperties, 'thingGroupProperties');
      const attributePayload = optionalObject(
        properties?.attributePayload,
        'thingGroupProperties.attributePayload',
      );
      const input: Parameters<typeof store.createThingGroup>[0] = {
        thingGroupName: resourceName(params.thingGroupName, 'thingGroupName'),
      };
      const parentGroupName = optionalResourceName(body.parentGroupName, 'parentGroupName');
      if (parentGroupName !== undefined) input.parentGroupName = parentGroupName;
      const description = optionalText(
        properties?.thingGroupDescription,
        'thingGroupProperties.thingGroupDescription',
        MAX_DESCRIPTION_LENGTH,
      );
      if (description !== undefined) input.description = description;
      const attributes = stringMap(
        attributePayload?.attributes,
        'thingGroupProperties.attributePayload.attributes',
      );
      if (attributes !== undefined) input.attributes = attributes;
      const group = store.createThingGroup(input);
      return {
        thingGroupName: group.thingGroupName,
        thingGroupArn: group.thingGroupArn,
        thingGroupId: group.thingGroupId,
      };
    },
  },
  {
    method: 'GET',
    path: '/thing-groups/{thingGroupName}',
    operation: 'DescribeThingGroup',
    handle({ params }, { store }) {
      const group = store.describeThingGroup(resourceName(params.thingGroupName, 'thingGroupName'));
      return {
        thingGroupName: group.thingGroupName,
        thingGroupId: group.thingGroupId,
        thingGroupArn: group.thingGroupArn,
        version: group.version,
        thingGroupProperties: {
          thingGroupDescription: group.description,
          attributePayload: { attributes: group.attributes },
        },
        thingGroupMetadata: {
          parentGroupName: group.parentGroupName,
          rootToParentThingGroups: group.rootToParentThingGroups.map((ancestor) => ({
            groupName: ancestor.thingGroupName,
            groupArn: ancestor.thingGroupArn,
          })),
          creationDate: group.createdAt,
        },
      };
    },
  },
];
