// MQTT topic filter matching, used for the accessControl check the nucleus applies to
// SubscribeToIoTCore / PublishToIoTCore before touching the broker.

/** True when `topic` (a concrete topic name) matches the MQTT filter `filter` (+ and # wildcards). */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level === '+') continue;
    if (level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whether an access-control resource list allows `requested` (a topic or a filter): an exact match,
 * or a resource filter that covers the requested string taken literally (as the nucleus does).
 */
export function allowedByResources(resources: readonly string[], requested: string): boolean {
  return resources.some(
    (resource) => resource === '*' || resource === requested || topicMatchesFilter(resource, requested),
  );
}
