// Each command validates only what it uses (README "Configuration", "Which command needs what").
// The schemas are derived from the one contract in schema.ts, so a key a command does not need is
// still checked when it is set: unknown keys and bad values are reported for the whole file, whichever
// command reads it. Only *requiredness* differs:
// - start:  everything (it enrolls, listens and runs);
// - enroll: thingName, region, jobId, namespaceId and enroll.* (never transport or executor);
// - status: only the state directory (flag, env, file or its default); the ids, when set, narrow the
//   report to that job.
import type { z } from 'zod';
import { configSchema, transportSchema } from './schema.js';

export const enrollCommandSchema = configSchema.extend({ transport: transportSchema.optional() });

export const statusCommandSchema = configSchema.partial({
  thingName: true,
  region: true,
  jobId: true,
  namespaceId: true,
  transport: true,
});

export const COMMAND_SCHEMAS = {
  start: configSchema,
  enroll: enrollCommandSchema,
  status: statusCommandSchema,
} as const;

/** What the configuration is loaded for; decides which keys are required. */
export type ConfigPurpose = keyof typeof COMMAND_SCHEMAS;

export type ConfigFor<P extends ConfigPurpose> = z.infer<(typeof COMMAND_SCHEMAS)[P]>;
export type EnrollCommandConfig = ConfigFor<'enroll'>;
export type StatusCommandConfig = ConfigFor<'status'>;
