// Validation of the merged configuration against the contract in schema.ts.
import { ConfigInvalidError } from '../errors.js';
import { formatConfigIssues } from './format-issues.js';
import type { ConfigOrigins } from './merge.js';
import { type Config, configSchema } from './schema.js';

/** The problems with `raw`, one line each; empty when it is a valid configuration. Pure. */
export function configProblems(raw: unknown, origins?: ConfigOrigins): string[] {
  const result = configSchema.safeParse(raw);
  return result.success ? [] : formatConfigIssues(result.error.issues, raw, configSchema, origins);
}

/**
 * The validated configuration with defaults filled in. Throws ConfigInvalidError whose message has one
 * line per problem (`jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-] (from env GGJOBS_JOB_ID)`).
 * `origins` (dotted key path -> source description) adds where a bad value came from.
 */
export function validateConfig(raw: unknown, origins?: ConfigOrigins): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = formatConfigIssues(result.error.issues, raw, configSchema, origins);
  throw new ConfigInvalidError(lines.join('\n'));
}
