// The effective configuration as `ggjobs config check` shows it: one row per setting with the value
// and the source it came from (default, Greengrass component configuration, config file, env NAME,
// flag --name). Secret values (passwords, tokens, step environment) are never shown. Pure.
import { formatValue, isSecretPath } from './format-issues.js';
import type { ConfigOrigins } from './merge.js';
import { stripUserinfo } from '../redact-url.js';

export interface EffectiveSetting {
  /** Dotted key path, e.g. `enroll.retry.maxAttempts`. */
  key: string;
  /** The value as JSON-quoted text, or `(value hidden)` for secrets. */
  value: string;
  /** The value itself, for --json (undefined when hidden). */
  raw?: unknown;
  hidden: boolean;
  /** `default` when no source set it (the schema filled it in). */
  source: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every leaf of the validated configuration (arrays and empty objects count as leaves), in schema order. */
export function effectiveSettings(config: unknown, origins: ConfigOrigins): EffectiveSetting[] {
  const rows: EffectiveSetting[] = [];
  const walk = (value: unknown, path: string) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) {
        if (child !== undefined) walk(child, path ? `${path}.${key}` : key);
      }
      return;
    }
    const hidden = isSecretPath(path);
    const row: EffectiveSetting = {
      key: path,
      value: hidden ? '(value hidden)' : formatValue(path, value),
      hidden,
      source: origins.get(path) ?? 'default',
    };
    if (!hidden) row.raw = typeof value === 'string' ? stripUserinfo(value) : value;
    rows.push(row);
  };
  walk(config, '');
  return rows;
}

/** Aligned `key  value  source` lines. */
export function formatEffectiveSettings(rows: readonly EffectiveSetting[]): string {
  const keyWidth = Math.max(3, ...rows.map((r) => r.key.length));
  const valueWidth = Math.min(40, Math.max(5, ...rows.map((r) => r.value.length)));
  const lines = [`${'KEY'.padEnd(keyWidth)}  ${'VALUE'.padEnd(valueWidth)}  SOURCE`];
  for (const r of rows) lines.push(`${r.key.padEnd(keyWidth)}  ${r.value.padEnd(valueWidth)}  ${r.source}`);
  return `${lines.join('\n')}\n`;
}
