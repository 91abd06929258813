import { describe, expect, it } from 'vitest';
import { jobsTopics, publishedTopics, subscribedTopics } from '../../src/jobs/topics.js';

const ids = { thingName: 'core-1', jobId: 'fleet-update', namespaceId: 'ggjobs' };

describe('jobs topics', () => {
  it('spells every namespaced topic', () => {
    expect(jobsTopics(ids)).toEqual({
      get: '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/get',
      getAccepted: '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/get/accepted',
      getRejected: '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/get/rejected',
      update: '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/update',
      updateAccepted: '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/update/accepted',
      updateRejected: '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/update/rejected',
      notifyPerJob: '$aws/things/core-1/jobs/fleet-update/notify-namespace-ggjobs/',
      notifyThing: '$aws/things/core-1/jobs/notify-namespace-ggjobs',
      notifyThingNext: '$aws/things/core-1/jobs/notify-next-namespace-ggjobs',
    });
  });

  it('subscribes to the exact reply topics and the enabled notification forms, without wildcards', () => {
    const all = subscribedTopics(ids, { perJob: true, thing: true, thingNext: true });
    expect(all).toEqual([
      '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/get/accepted',
      '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/get/rejected',
      '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/update/accepted',
      '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/update/rejected',
      '$aws/things/core-1/jobs/fleet-update/notify-namespace-ggjobs/',
      '$aws/things/core-1/jobs/notify-namespace-ggjobs',
      '$aws/things/core-1/jobs/notify-next-namespace-ggjobs',
    ]);
    for (const topic of all) expect(topic).not.toMatch(/[+#]/);
    expect(subscribedTopics(ids, { perJob: false, thing: true, thingNext: false })).toEqual([
      ...all.slice(0, 4),
      '$aws/things/core-1/jobs/notify-namespace-ggjobs',
    ]);
  });

  it('publishes only to get and update', () => {
    expect(publishedTopics(ids)).toEqual([
      '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/get',
      '$aws/things/core-1/jobs/fleet-update/namespace-ggjobs/update',
    ]);
  });
});
