// The component configuration the test server serves: GetConfiguration lookups by key path and the
// key paths that changed between two versions (what SubscribeToConfigurationUpdate reports).

export type ConfigObject = Record<string, unknown>;

function isObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type LookupResult = { found: true; value: ConfigObject } | { found: false };

/**
 * The value GetConfiguration answers for `keyPath`: the whole object for [], the sub-object for a
 * path to an object, and a leaf wrapped under its last key (`{ key: leaf }`), as the nucleus does.
 */
export function lookupConfiguration(configuration: ConfigObject, keyPath: readonly string[]): LookupResult {
  let node: unknown = configuration;
  for (const key of keyPath) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return { found: false };
    node = node[key];
  }
  if (isObject(node)) return { found: true, value: structuredClone(node) };
  const last = keyPath[keyPath.length - 1];
  if (last === undefined) return { found: false };
  return { found: true, value: { [last]: structuredClone(node) } };
}

/** Leaf key paths whose value differs (added, removed or changed) between two configurations. */
export function changedKeyPaths(before: unknown, after: unknown, prefix: string[] = []): string[][] {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => changedKeyPaths(before[key], after[key], [...prefix, key]));
  }
  if (isObject(before) || isObject(after)) {
    // An object replaced by a leaf (or the reverse): report each leaf underneath, and the node itself.
    const side = isObject(before) ? before : (after as ConfigObject);
    const nested = Object.keys(side).flatMap((key) =>
      changedKeyPaths(isObject(before) ? before[key] : undefined, isObject(after) ? after[key] : undefined, [
        ...prefix,
        key,
      ]),
    );
    return nested.length > 0 ? nested : [prefix];
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

/** Whether a change at `changed` concerns a subscription on `subscribed` (either is a prefix of the other). */
export function keyPathConcerns(subscribed: readonly string[], changed: readonly string[]): boolean {
  const n = Math.min(subscribed.length, changed.length);
  for (let i = 0; i < n; i++) if (subscribed[i] !== changed[i]) return false;
  return true;
}
