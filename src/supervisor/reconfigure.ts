// Pure decisions of live reconfiguration (the rest of src/supervisor/ does the I/O): what the Greengrass
// component configuration contributes, whether a new effective configuration changes anything, and
// whether the change needs the agent restarted and enrollment done again.
import type { Config } from '../config/schema.js';

/** Keys of the component configuration that belong to the nucleus, not to ggjobs's config contract. */
const NUCLEUS_KEYS = ['accessControl'] as const;

/**
 * The part of the Greengrass component configuration that is ggjobs configuration. The nucleus keeps
 * the recipe's `accessControl` (IPC authorization policies) in the same object and GetConfiguration
 * returns it too; the strict config schema would refuse it as an unknown key.
 */
export function agentConfigurationFromComponent(component: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...component };
  for (const key of NUCLEUS_KEYS) delete out[key];
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted paths of the leaves that differ between two configurations (arrays compare whole). */
export function changedKeys(before: unknown, after: unknown, prefix = ''): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedKeys(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

/** What identifies an enrollment: the job, its namespace, the thing, the region and every enroll.* key. */
export function enrollFingerprint(config: Config): string {
  const { thingName, region, jobId, namespaceId, enroll } = config;
  return JSON.stringify({ thingName, region, jobId, namespaceId, enroll }, (_key, value: unknown) =>
    isObject(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, value[k]]),
        )
      : value,
  );
}

export type ReconfigurationPlan =
  /** Same effective configuration: nothing to do. */
  | { action: 'none' }
  /** Only logLevel changed: set it on the running logger, nothing restarts. */
  | { action: 'log-level'; changed: string[] }
  /** Stop the agent gracefully and start it with the new configuration. */
  | { action: 'restart'; changed: string[]; enroll: boolean };

/**
 * What applying `next` takes, given the configuration the agent runs with (undefined: none is
 * running) and the fingerprint of the enrollment already done (undefined: none succeeded yet).
 */
export function planReconfiguration(
  running: Config | undefined,
  next: Config,
  enrolledFingerprint: string | undefined,
): ReconfigurationPlan {
  const enroll = next.enroll.enabled && enrollFingerprint(next) !== enrolledFingerprint;
  if (!running) return { action: 'restart', changed: [], enroll };
  const changed = changedKeys(running, next);
  if (changed.length === 0) return { action: 'none' };
  if (changed.every((key) => key === 'logLevel')) return { action: 'log-level', changed };
  return { action: 'restart', changed, enroll };
}

/** One log line's worth of a ConfigInvalidError / ConfigFileError message (one problem per line). */
export function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join('; ');
}
