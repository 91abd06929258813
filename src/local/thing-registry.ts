// Things, thing groups and group membership of the local stack (the AWS IoT registry part the Jobs
// simulation needs). Pure in-memory bookkeeping; the LocalStore wraps it and turns membership changes
// into job executions.

import { randomUUID } from 'node:crypto';
import { thingArn, thingGroupArn } from './arn.js';
import { ServiceError } from './store-errors.js';

export interface ThingRecord {
  thingName: string;
  thingArn: string;
  thingId: string;
  thingTypeName?: string;
  attributes: Record<string, string>;
  version: number;
  createdAt: number;
}

export interface ThingGroupRecord {
  thingGroupName: string;
  thingGroupArn: string;
  thingGroupId: string;
  description?: string;
  attributes: Record<string, string>;
  parentGroupName?: string;
  version: number;
  createdAt: number;
}

export interface CreateThingInput {
  thingName: string;
  thingTypeName?: string;
  attributes?: Record<string, string>;
}

export interface CreateThingGroupInput {
  thingGroupName: string;
  parentGroupName?: string;
  description?: string;
  attributes?: Record<string, string>;
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

export class ThingRegistry {
  private readonly things = new Map<string, ThingRecord>();
  private readonly groups = new Map<string, ThingGroupRecord>();
  /** group name -> names of the things directly in it */
  private readonly members = new Map<string, Set<string>>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** AWS's CreateThing is idempotent for an identical request and refuses a conflicting one. */
  createThing(input: CreateThingInput, nowSeconds: number): { thing: ThingRecord; created: boolean } {
    const attributes = { ...(input.attributes ?? {}) };
    const existing = this.things.get(input.thingName);
    if (existing) {
      if (existing.thingTypeName === input.thingTypeName && sameAttributes(existing.attributes, attributes)) {
        return { thing: existing, created: false };
      }
      throw new ServiceError(
        'ResourceAlreadyExistsException',
        `Thing ${input.thingName} already exists with different attributes`,
      );
    }
    const thing: ThingRecord = {
      thingName: input.thingName,
      thingArn: thingArn(this.region, this.accountId, input.thingName),
      thingId: randomUUID(),
      attributes,
      version: 1,
      createdAt: nowSeconds,
    };
    if (input.thingTypeName !== undefined) thing.thingTypeName = input.thingTypeName;
    this.things.set(thing.thingName, thing);
    return { thing, created: true };
  }

  thing(thingName: string): ThingRecord {
    const thing = this.things.get(thingName);
    if (!thing) throw new ServiceError('ResourceNotFoundException', `Thing ${thingName} cannot be found.`);
    return thing;
  }

  hasThing(thingName: string): boolean {
    return this.things.has(thingName);
  }

  createThingGroup(input: CreateThingGroupInput, nowSeconds: number): ThingGroupRecord {
    const attributes = { ...(input.attributes ?? {}) };
    const existing = this.groups.get(input.thingGroupName);
    if (existing) {
      const same =
        existing.parentGroupName === input.parentGroupName &&
        existing.description === input.description &&
        sameAttributes(existing.attributes, attributes);
      if (same) return existing;
      throw new ServiceError(
        'ResourceAlreadyExistsException',
        `Thing group ${input.thingGroupName} already exists with different properties`,
      );
    }
    if (input.parentGroupName !== undefined) this.group(input.parentGroupName);
    const group: ThingGroupRecord = {
      thingGroupName: input.thingGroupName,
      thingGroupArn: thingGroupArn(this.region, this.accountId, input.thingGroupName),
      thingGroupId: randomUUID(),
      attributes,
      version: 1,
      createdAt: nowSeconds,
    };
    if (input.description !== undefined) group.description = input.description;
    if (input.parentGroupName !== undefined) group.parentGroupName = input.parentGroupName;
    this.groups.set(group.thingGroupName, group);
    this.members.set(group.thingGroupName, new Set());
    return group;
  }

  group(groupName: string): ThingGroupRecord {
    const group = this.groups.get(groupName);
    if (!group)
      throw new ServiceError('ResourceNotFoundException', `Thing group ${groupName} cannot be found.`);
    return group;
  }

  hasGroup(groupName: string): boolean {
    return this.groups.has(groupName);
  }

  findGroup(by: { name?: string; id?: string }): ThingGroupRecord | undefined {
    if (by.name !== undefined) return this.groups.get(by.name);
    return [...this.groups.values()].find((group) => group.thingGroupId === by.id);
  }

  /** Names of the groups from the root down to (excluding) this group. */
  ancestors(groupName: string): string[] {
    const chain: string[] = [];
    let parent = this.groups.get(groupName)?.parentGroupName;
    while (parent !== undefined && !chain.includes(parent)) {
      chain.unshift(parent);
      parent = this.groups.get(parent)?.parentGroupName;
    }
    return chain;
  }

  /** Returns false when the thing was already a member (AWS answers success either way). */
  addMember(groupName: string, thingName: string): boolean {
    this.group(groupName);
    this.thing(thingName);
    const set = this.members.get(groupName)!;
    if (set.has(thingName)) return false;
    set.add(thingName);
    return true;
  }

  /** Returns false when the thing was not a member (AWS answers success either way). */
  removeMember(groupName: string, thingName: string): boolean {
    this.group(groupName);
    this.thing(thingName);
    return this.members.get(groupName)!.delete(thingName);
  }

  /** The groups a thing is directly in, in creation order. */
  groupsOf(thingName: string): ThingGroupRecord[] {
    return [...this.groups.values()].filter((group) =>
      this.members.get(group.thingGroupName)!.has(thingName),
    );
  }

  /**
   * The things a job targeting this group reaches: its direct members and those of all its descendant
   * groups (AWS jobs targeting a parent group also reach things in child groups).
   */
  thingsReachedBy(groupName: string): string[] {
    const reached = new Set<string>();
    const visit = (name: string, seen: Set<string>): void => {
      if (seen.has(name)) return;
      seen.add(name);
      for (const thing of this.members.get(name) ?? []) reached.add(thing);
      for (const child of this.groups.values()) {
        if (child.parentGroupName === name) visit(child.thingGroupName, seen);
      }
    };
    visit(groupName, new Set());
    return [...reached];
  }

  /** Whether a job targeting `groupName` reaches `thingName` (directly or through a child group). */
  reaches(groupName: string, thingName: string): boolean {
    return this.thingsReachedBy(groupName).includes(thingName);
  }
}
