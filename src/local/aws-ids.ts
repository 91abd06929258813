// What AWS IoT accepts as an id, from its API reference (CreateJob jobId, namespaceId; CreateThing
// thingName, CreateThingGroup thingGroupName). The local stack judges requests by these rules itself:
// it plays the service, so it must not borrow the agent's configuration rules (src/config).
export const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
export const NAMESPACE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** Thing and thing group names. */
export const RESOURCE_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
