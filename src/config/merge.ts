// Merging the configuration sources. Later sources win; objects merge key by key, everything else
// (arrays included) is replaced whole. Two rules keep a later source from producing a nonsense mix:
// - an object whose `kind` differs from the earlier one replaces it (an env GGJOBS_MQTT_URL must not
//   inherit `endpoint`/`certFile` from an iot-core transport in the file);
// - naming the thing group one way (thingGroupName / thingGroupArn) drops the other way set earlier.
// Alongside the merged value we record which source set each leaf, so errors can say where a bad
// value came from.

export type SourceName = 'defaults' | 'greengrass' | 'file' | 'env' | 'flags';

/** Precedence, lowest first. */
export const SOURCE_ORDER: readonly SourceName[] = ['defaults', 'greengrass', 'file', 'env', 'flags'];

export type ConfigSources = Partial<Record<SourceName, unknown>>;

/** How to describe where a key came from: one label for the whole source, or one per dotted key path. */
export type SourceLabel = string | ((path: string) => string | undefined);

export type SourceLabels = Partial<Record<SourceName, SourceLabel>>;

/** Dotted key path (`enroll.retry.maxAttempts`) -> human description of the source that set it. */
export type ConfigOrigins = ReadonlyMap<string, string>;

const DEFAULT_LABELS: Record<SourceName, string> = {
  defaults: 'defaults',
  greengrass: 'Greengrass component configuration',
  file: 'config file',
  env: 'environment',
  flags: 'command line',
};

/** Pairs of keys (under a parent path) of which a later source setting one removes the other. */
const EXCLUSIVE_KEYS: ReadonlyArray<{ parent: string; keys: readonly [string, string] }> = [
  { parent: 'enroll', keys: ['thingGroupName', 'thingGroupArn'] },
];

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function joinPath(parent: string, key: string): string {
  return parent ? `${parent}.${key}` : key;
}

function labelFor(label: SourceLabel, path: string): string {
  return typeof label === 'string' ? label : (label(path) ?? '');
}

function recordLeaves(value: unknown, path: string, label: SourceLabel, origins: Map<string, string>): void {
  const text = labelFor(label, path);
  if (text) origins.set(path, text);
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (child !== undefined) recordLeaves(child, joinPath(path, key), label, origins);
    }
  }
}

function forgetBelow(path: string, origins: Map<string, string>): void {
  for (const key of [...origins.keys()]) {
    if (key === path || key.startsWith(`${path}.`)) origins.delete(key);
  }
}

function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  path: string,
  label: SourceLabel,
  origins: Map<string, string>,
): void {
  for (const rule of EXCLUSIVE_KEYS) {
    if (rule.parent !== path) continue;
    const [a, b] = rule.keys;
    if (source[a] !== undefined && source[b] === undefined && b in target) {
      delete target[b];
      forgetBelow(joinPath(path, b), origins);
    }
    if (source[b] !== undefined && source[a] === undefined && a in target) {
      delete target[a];
      forgetBelow(joinPath(path, a), origins);
    }
  }
  for (const [key, value] of Object.entries(source)) {
    // An absent flag arrives as `undefined`: it means "not given", never "erase".
    if (value === undefined) continue;
    // Keys like __proto__ in a JSON file must not reach the prototype chain.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const keyPath = joinPath(path, key);
    const existing = target[key];
    const sameKind =
      !isPlainObject(existing) ||
      !isPlainObject(value) ||
      existing.kind === undefined ||
      value.kind === undefined ||
      existing.kind === value.kind;
    if (isPlainObject(existing) && isPlainObject(value) && sameKind) {
      const text = labelFor(label, keyPath);
      if (text) origins.set(keyPath, text);
      mergeInto(existing, value, keyPath, label, origins);
    } else {
      forgetBelow(keyPath, origins);
      target[key] = cloneValue(value);
      recordLeaves(value, keyPath, label, origins);
    }
  }
}

function cloneValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneValue);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined || key === '__proto__' || key === 'constructor' || key === 'prototype')
        continue;
      out[key] = cloneValue(child);
    }
    return out;
  }
  return value;
}

/**
 * Merges the sources in precedence order (defaults < greengrass < file < env < flags) and records
 * which source set each key. A source that is not an object (undefined included) contributes nothing.
 */
export function mergeConfigSourcesWithOrigins(
  sources: ConfigSources,
  labels: SourceLabels = {},
): { value: Record<string, unknown>; origins: ConfigOrigins } {
  const value: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  for (const name of SOURCE_ORDER) {
    const source = sources[name];
    if (!isPlainObject(source)) continue;
    mergeInto(value, source, '', labels[name] ?? DEFAULT_LABELS[name], origins);
  }
  return { value, origins };
}

/** The merged configuration (not yet validated). Pure: the sources are not modified. */
export function mergeConfigSources(sources: ConfigSources): unknown {
  return mergeConfigSourcesWithOrigins(sources).value;
}
