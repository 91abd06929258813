// Validation of the merged configuration against the contract in schema.ts (or the part of it one
// command needs, command-schemas.ts).
import { ConfigInvalidError } from '../errors.js';
import { COMMAND_SCHEMAS, type ConfigFor, type ConfigPurpose } from './command-schemas.js';
import { formatConfigIssues } from './format-issues.js';
import type { ConfigOrigins } from './merge.js';
import type { Config } from './schema.js';

/** The problems with `raw` for `purpose` (default start: everything), one line each; empty when valid. Pure. */
export function configProblems(
  raw: unknown,
  origins?: ConfigOrigins,
  purpose: ConfigPurpose = 'start',
): string[] {
  const schema = COMMAND_SCHEMAS[purpose];
  const result = schema.safeParse(raw);
  return result.success ? [] : formatConfigIssues(result.error.issues, raw, schema, origins);
}

/**
 * The validated configuration with defaults filled in. Throws ConfigInvalidError whose message has one
 * line per problem (`jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-] (from env GGJOBS_JOB_ID)`).
 * `origins` (dotted key path -> source description) adds where a bad value came from.
 */
export function validateConfig(raw: unknown, origins?: ConfigOrigins): Config {
  return validateConfigFor('start', raw, origins);
}

/** validateConfig for one command: only the keys `purpose` uses are required. */
export function validateConfigFor<P extends ConfigPurpose>(
  purpose: P,
  raw: unknown,
  origins?: ConfigOrigins,
): ConfigFor<P> {
  const schema = COMMAND_SCHEMAS[purpose];
  const result = schema.safeParse(raw);
  if (result.success) return result.data as ConfigFor<P>;
  const lines = formatConfigIssues(result.error.issues, raw, schema, origins);
  throw new ConfigInvalidError(lines.join('\n'));
}
