// Choosing the device's thing group from the groups its thing belongs to (when the config names none).
import { ThingGroupAmbiguousError } from '../errors.js';

export interface ThingGroupRef {
  groupName: string;
  groupArn: string;
}

const LISTED = 10;

function listNames(groups: readonly ThingGroupRef[]): string {
  const names = groups.slice(0, LISTED).map((g) => g.groupName);
  const more = groups.length > LISTED ? `, and ${groups.length - LISTED} more` : '';
  return `${names.join(', ')}${more}`;
}

/**
 * The one group that matches `pattern` (a regular expression tested against group names, unanchored),
 * or the thing's only group when there is no pattern. Otherwise ThingGroupAmbiguousError listing the
 * candidates. Pure.
 */
export function pickThingGroup(
  groups: readonly ThingGroupRef[],
  thingName: string,
  pattern?: string,
): ThingGroupRef {
  if (pattern === undefined) {
    if (groups.length === 1) return groups[0]!;
    if (groups.length === 0) {
      throw new ThingGroupAmbiguousError(
        `thing "${thingName}" belongs to no thing group, so there is no group to enroll. Add the thing to a thing group, or set enroll.thingGroupName.`,
      );
    }
    throw new ThingGroupAmbiguousError(
      `thing "${thingName}" belongs to ${groups.length} thing groups (${listNames(groups)}); set enroll.thingGroupName, or enroll.groupPattern to pick exactly one.`,
    );
  }
  const re = new RegExp(pattern);
  const matches = groups.filter((g) => re.test(g.groupName));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new ThingGroupAmbiguousError(
      `none of the thing groups of thing "${thingName}" (${groups.length === 0 ? 'it belongs to none' : listNames(groups)}) matches enroll.groupPattern /${pattern}/; fix the pattern or set enroll.thingGroupName.`,
    );
  }
  throw new ThingGroupAmbiguousError(
    `${matches.length} thing groups of thing "${thingName}" match enroll.groupPattern /${pattern}/ (${listNames(matches)}); make the pattern match exactly one, or set enroll.thingGroupName.`,
  );
}
