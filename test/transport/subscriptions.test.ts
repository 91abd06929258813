// The subscription registry the MQTT backends share: which handlers hear which message, in which
// order, and which filters get (re)subscribed.
import { describe, expect, it } from 'vitest';
import { deliverMessage, SubscriptionRegistry, topicMatches } from '../../src/transport/subscriptions.js';
import type { MessageHandler } from '../../src/transport/types.js';

function recorder(name: string, calls: string[]): MessageHandler {
  return (topic, payload) => calls.push(`${name} ${topic} ${payload.toString()}`);
}

describe('SubscriptionRegistry', () => {
  it('says whether a filter is new, and lists each filter once in first-subscribed order', () => {
    const registry = new SubscriptionRegistry(() => undefined);
    const calls: string[] = [];
    expect(registry.add('b/+', recorder('one', calls))).toBe(true);
    expect(registry.add('a/#', recorder('two', calls))).toBe(true);
    expect(registry.add('b/+', recorder('three', calls))).toBe(false);
    expect(registry.filters()).toEqual(['b/+', 'a/#']);
  });

  it('delivers a message to the handlers of every matching filter, once per handler and filter', () => {
    const registry = new SubscriptionRegistry(() => undefined);
    const calls: string[] = [];
    const shared = recorder('shared', calls);
    registry.add('jobs/+/notify', recorder('plus', calls));
    registry.add('jobs/#', shared);
    registry.add('jobs/#', shared); // the same handler twice on one filter counts once
    registry.add('other/topic', recorder('other', calls));
    registry.add('jobs/j1/notify', shared);

    registry.dispatch('jobs/j1/notify', Buffer.from('{}'));
    expect(calls).toEqual(['plus jobs/j1/notify {}', 'shared jobs/j1/notify {}', 'shared jobs/j1/notify {}']);

    calls.length = 0;
    registry.dispatch('unrelated', Buffer.from('x'));
    expect(calls).toEqual([]);
  });

  it('keeps delivering after a handler throws, and reports the topic and the error', () => {
    const errors: Array<[string, string]> = [];
    const registry = new SubscriptionRegistry((topic, err) => errors.push([topic, (err as Error).message]));
    const calls: string[] = [];
    registry.add('t', () => {
      throw new Error('boom');
    });
    registry.add('t', recorder('after', calls));
    registry.add('#', recorder('wildcard', calls));

    registry.dispatch('t', Buffer.from('p'));
    expect(calls).toEqual(['after t p', 'wildcard t p']);
    expect(errors).toEqual([['t', 'boom']]);
  });

  it('forgets every filter on clear()', () => {
    const registry = new SubscriptionRegistry(() => undefined);
    const calls: string[] = [];
    registry.add('a', recorder('a', calls));
    registry.clear();
    expect(registry.filters()).toEqual([]);
    registry.dispatch('a', Buffer.from(''));
    expect(calls).toEqual([]);
    expect(registry.add('a', recorder('again', calls))).toBe(true);
  });
});

describe('deliverMessage', () => {
  it('calls every handler in order and hands each error to onError', () => {
    const calls: string[] = [];
    const errors: unknown[] = [];
    const failure = new Error('handler failed');
    deliverMessage(
      [
        recorder('first', calls),
        () => {
          throw failure;
        },
        recorder('last', calls),
      ],
      'topic/x',
      Buffer.from('body'),
      (err) => errors.push(err),
    );
    expect(calls).toEqual(['first topic/x body', 'last topic/x body']);
    expect(errors).toEqual([failure]);
  });
});

describe('topicMatches', () => {
  it.each<[string, string, boolean]>([
    ['a/b', 'a/b', true],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'anything/at/all', true],
    ['a/b/', 'a/b', false],
    ['a/b', 'a/b/c', false],
  ])('%s vs %s -> %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});
