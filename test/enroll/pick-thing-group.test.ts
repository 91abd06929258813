import { describe, expect, it } from 'vitest';
import { pickThingGroup } from '../../src/enroll/pick-thing-group.js';
import { ThingGroupAmbiguousError } from '../../src/errors.js';

const group = (name: string) => ({
  groupName: name,
  groupArn: `arn:aws:iot:us-east-1:123456789012:thinggroup/${name}`,
});

function ambiguity(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ThingGroupAmbiguousError);
    return err as Error;
  }
  throw new Error('expected ThingGroupAmbiguousError');
}

describe('pickThingGroup', () => {
  it('takes the only group of the thing when there is no pattern', () => {
    expect(pickThingGroup([group('site-a')], 'core-1')).toEqual(group('site-a'));
  });

  it('refuses a thing without groups', () => {
    expect(ambiguity(() => pickThingGroup([], 'core-1')).message).toContain(
      'thing "core-1" belongs to no thing group',
    );
  });

  it('refuses several groups without a pattern, listing them', () => {
    const err = ambiguity(() => pickThingGroup([group('site-a'), group('all-cores')], 'core-1'));
    expect(err.message).toContain('belongs to 2 thing groups (site-a, all-cores)');
    expect(err.message).toContain('enroll.groupPattern');
  });

  it('takes the one group matching the pattern', () => {
    expect(pickThingGroup([group('all-cores'), group('site-a')], 'core-1', '^site-')).toEqual(
      group('site-a'),
    );
  });

  it('refuses a pattern matching none or several, listing the candidates', () => {
    const none = ambiguity(() => pickThingGroup([group('all-cores'), group('site-a')], 'core-1', '^fleet-'));
    expect(none.message).toContain('(all-cores, site-a) matches enroll.groupPattern /^fleet-/');
    const two = ambiguity(() =>
      pickThingGroup([group('site-a'), group('site-b'), group('x')], 'core-1', 'site'),
    );
    expect(two.message).toContain(
      '2 thing groups of thing "core-1" match enroll.groupPattern /site/ (site-a, site-b)',
    );
  });

  it('shortens a long candidate list', () => {
    const many = Array.from({ length: 25 }, (_, i) => group(`g${i}`));
    expect(ambiguity(() => pickThingGroup(many, 'core-1')).message).toContain('g9, and 15 more');
  });
});
