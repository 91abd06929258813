// The namespaced AWS IoT Jobs topics of one thing / job / namespace. Neither jobs client of the device
// SDK knows namespaces, so every topic is spelled out here, once; the listener, the Greengrass recipe's
// accessControl and the tests all take their topic lists from this file.

export interface JobIds {
  thingName: string;
  jobId: string;
  namespaceId: string;
}

export interface JobsTopics {
  /** Describe this job's execution (DescribeJobExecution). */
  get: string;
  getAccepted: string;
  getRejected: string;
  /** Update this job's execution (UpdateJobExecution). */
  update: string;
  updateAccepted: string;
  updateRejected: string;
  /** Per-job notification, as the AWS API reference writes it (note the trailing slash). */
  notifyPerJob: string;
  /** JobExecutionsChanged for the thing (what the Greengrass nucleus subscribes to). */
  notifyThing: string;
  /** NextJobExecutionChanged for the thing (what Greengrass nucleus lite subscribes to). */
  notifyThingNext: string;
}

export function jobsTopics(ids: JobIds): JobsTopics {
  const thing = `$aws/things/${ids.thingName}/jobs`;
  const ns = `namespace-${ids.namespaceId}`;
  const get = `${thing}/${ids.jobId}/${ns}/get`;
  const update = `${thing}/${ids.jobId}/${ns}/update`;
  return {
    get,
    getAccepted: `${get}/accepted`,
    getRejected: `${get}/rejected`,
    update,
    updateAccepted: `${update}/accepted`,
    updateRejected: `${update}/rejected`,
    notifyPerJob: `${thing}/${ids.jobId}/notify-${ns}/`,
    notifyThing: `${thing}/notify-${ns}`,
    notifyThingNext: `${thing}/notify-next-${ns}`,
  };
}

export interface NotifyForms {
  perJob: boolean;
  thing: boolean;
  thingNext: boolean;
}

/** Every filter the listener subscribes to: exact topics, no wildcards, so an ACL can list them. */
export function subscribedTopics(ids: JobIds, notify: NotifyForms): string[] {
  const t = jobsTopics(ids);
  const topics = [t.getAccepted, t.getRejected, t.updateAccepted, t.updateRejected];
  if (notify.perJob) topics.push(t.notifyPerJob);
  if (notify.thing) topics.push(t.notifyThing);
  if (notify.thingNext) topics.push(t.notifyThingNext);
  return topics;
}

/** Every topic the listener publishes to. */
export function publishedTopics(ids: JobIds): string[] {
  const t = jobsTopics(ids);
  return [t.get, t.update];
}
