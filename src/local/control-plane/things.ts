// Control-plane operations on things: CreateThing, DescribeThing, ListThingGroupsForThing.

import { pageRequest, paginate } from './pagination.js';
import type { Route } from './router.js';
import { optionalObject, optionalResourceName, resourceName, stringMap } from './validate.js';

export const thingRoutes: Route[] = [
  {
    method: 'POST',
    path: '/things/{thingName}',
    operation: 'CreateThing',
    handle({ params, body }, { store }) {
      const attributePayload = optionalObject(body.attributePayload, 'attributePayload');
      const input: Parameters<typeof store.createThing>[0] = {
        thingName: resourceName(params.thingName, 'thingName'),
      };
      const thingTypeName = optionalResourceName(body.thingTypeName, 'thingTypeName');
      if (thingTypeName !== undefined) input.thingTypeName = thingTypeName;
      const attributes = stringMap(attributePayload?.attributes, 'attributePayload.attributes');
      if (attributes !== undefined) input.attributes = attributes;
      const thing = store.createThing(input);
      return { thingName: thing.thingName, thingArn: thing.thingArn, thingId: thing.thingId };
    },
  },
  {
    method: 'GET',
    path: '/things/{thingName}',
    operation: 'DescribeThing',
    handle({ params }, { store }) {
      const thing = store.describeThing(resourceName(params.thingName, 'thingName'));
      return {
        defaultClientId: thing.thingName,
        thingName: thing.thingName,
        thingId: thing.thingId,
        thingArn: thing.thingArn,
        thingTypeName: thing.thingTypeName,
        attributes: thing.attributes,
        version: thing.version,
      };
    },
  },
  {
    method: 'GET',
    path: '/things/{thingName}/thing-groups',
    operation: 'ListThingGroupsForThing',
    handle({ params, query }, { store }) {
      const groups = store.thingGroupsForThing(resourceName(params.thingName, 'thingName'));
      const { page, nextToken } = paginate(groups, pageRequest(query));
      return {
        thingGroups: page.map((group) => ({
          groupName: group.thingGroupName,
          groupArn: group.thingGroupArn,
        })),
        nextToken,
      };
    },
  },
];
