// The public configuration contract (README "Configuration"). Every source (defaults, Greengrass
// component configuration, local file, env, flags) is merged first and validated here once.
// Greengrass advises numbers and booleans as strings in recipes, so both forms are accepted.
import { z } from 'zod';

import {
  JOB_ID_PATTERN,
  NAMESPACE_ID_PATTERN,
  REGION_PATTERN,
  THING_GROUP_ARN_PATTERN,
  THING_GROUP_NAME_PATTERN,
  THING_NAME_PATTERN,
} from './patterns.js';

export * from './patterns.js';

/** A whole number given as a number or a numeric string ("30"), within [min, max]. */
export function intField(min: number, max: number) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: `must be a whole number from ${min} to ${max}` })
      .int({ error: `must be a whole number from ${min} to ${max}` })
      .min(min, { error: `must be a whole number from ${min} to ${max}` })
      .max(max, { error: `must be a whole number from ${min} to ${max}` }),
  );
}

/** true/false, or the strings "true"/"false" (case-insensitive), as Greengrass and the Device Client send. */
export const boolField = z.preprocess(
  (v) => (typeof v === 'string' && /^(true|false)$/i.test(v.trim()) ? v.trim().toLowerCase() === 'true' : v),
  z.boolean({ error: 'must be true or false' }),
);

function patternField(pattern: RegExp, allowed: string) {
  return z.string({ error: `must be ${allowed}` }).regex(pattern, { error: `must be ${allowed}` });
}

const jobIdField = patternField(JOB_ID_PATTERN, '1-64 characters of [a-zA-Z0-9_-]');
const namespaceIdField = patternField(NAMESPACE_ID_PATTERN, '1-64 characters of [a-zA-Z0-9_-]');
const thingNameField = patternField(THING_NAME_PATTERN, '1-128 characters of [a-zA-Z0-9:_-]');

const urlField = (protocols: string[]) =>
  z.string({ error: `must be a URL (${protocols.join(', ')})` }).refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { error: `must be a URL (${protocols.join(', ')})` },
  );

const regexField = z.string().refine(
  (v) => {
    try {
      new RegExp(v);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be a valid regular expression' },
);

export const retrySchema = z
  .object({
    /** Attempts in total, the first one included. */
    maxAttempts: intField(1, 100).default(8),
    baseDelayMs: intField(1, 60_000).default(250),
    maxDelayMs: intField(1, 600_000).default(20_000),
    /** Give up when the next wait would pass this much time since the first attempt. */
    maxTotalMs: intField(1, 3_600_000).default(120_000),
  })
  .strict();

const enrollSchema = z
  .object({
    enabled: boolField.default(true),
    thingGroupName: patternField(THING_GROUP_NAME_PATTERN, '1-128 characters of [a-zA-Z0-9:_-]').optional(),
    thingGroupArn: patternField(
      THING_GROUP_ARN_PATTERN,
      'a thing group ARN like arn:aws:iot:REGION:ACCOUNT:thinggroup/NAME',
    ).optional(),
    /** When no group is named: the one group of the thing that matches this regular expression. */
    groupPattern: regexField.optional(),
    comment: z.string().max(2028, { error: 'must be at most 2028 characters' }).optional(),
    /** Control-plane endpoint override, e.g. the local stack's http://127.0.0.1:4580. */
    endpoint: urlField(['http', 'https']).optional(),
    retry: retrySchema.default(() => retrySchema.parse({})),
    /** First boot, nothing found on the data plane: at most this long (jittered) before looking again
     *  and only then calling the control plane, so one device per thing group does the association. */
    firstBootWaitSeconds: intField(0, 3_600).default(30),
    /** A recorded enrollment is verified again (data plane first) after 50-100% of this. */
    reverifyHours: intField(1, 8_760).default(168),
  })
  .strict()
  .refine((e) => !(e.thingGroupName && e.thingGroupArn), {
    error: 'set thingGroupName or thingGroupArn, not both',
    path: ['thingGroupArn'],
  });

const notifyTopicsSchema = z
  .object({
    /** `$aws/things/T/jobs/J/notify-namespace-NS/` (AWS API reference form). */
    perJob: boolField.default(true),
    /** `$aws/things/T/jobs/notify-namespace-NS` (what the Greengrass nucleus subscribes to). */
    thing: boolField.default(true),
    /** `$aws/things/T/jobs/notify-next-namespace-NS` (what Greengrass nucleus lite subscribes to). */
    thingNext: boolField.default(true),
  })
  .strict();

const listenSchema = z
  .object({
    notifyTopics: notifyTopicsSchema.default(() => notifyTopicsSchema.parse({})),
    /** Timeout of one Jobs request (get/update) waiting for /accepted or /rejected. */
    requestTimeoutMs: intField(100, 300_000).default(10_000),
    /** Further attempts after a timeout, RequestThrottled or InternalError. */
    requestRetries: intField(0, 20).default(3),
    /** Backoff for re-sending the status outbox while the service does not accept it. */
    outboxRetryMinMs: intField(10, 600_000).default(1_000),
    outboxRetryMaxMs: intField(10, 3_600_000).default(60_000),
    /** Safety-net describe of the job's execution; 0 = only on start, reconnect and notifications. */
    pollIntervalSeconds: intField(0, 86_400).default(0),
    /** On SIGTERM/SIGINT, how long a running job may take to finish before it is aborted (the
     *  Greengrass recipe sets 1: the nucleus SIGKILLs a component 5 s after SIGTERM). */
    shutdownGraceSeconds: intField(0, 3_600).default(30),
    /** While a step runs, an IN_PROGRESS heartbeat (step, elapsed time, progress) this often; 0 = off. */
    progressIntervalSeconds: intField(0, 86_400).default(60),
    /** A configuration change that needs a restart waits this long for the running job to finish. */
    restartWaitSeconds: intField(0, 7 * 86_400).default(3_600),
  })
  .strict();

const tlsFiles = {
  caFile: z.string().min(1).optional(),
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
};

export const mqttTransportSchema = z
  .object({
    kind: z.literal('mqtt'),
    url: urlField(['mqtt', 'mqtts']),
    clientId: z.string().min(1).max(128).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    ...tlsFiles,
    /** TLS certificate verification; only ever turn off for a test broker. */
    rejectUnauthorized: boolField.default(true),
    keepaliveSeconds: intField(5, 1_200).default(60),
    reconnectMinMs: intField(10, 600_000).default(1_000),
    reconnectMaxMs: intField(10, 600_000).default(30_000),
  })
  .strict()
  .refine((t) => !!t.certFile === !!t.keyFile, {
    error: 'certFile and keyFile go together',
    path: ['keyFile'],
  })
  // MQTT 3.1.1 sends a password only together with a user name; mqtt.js would never connect.
  .refine((t) => t.password === undefined || t.username !== undefined, {
    error: 'needs transport.username too (MQTT sends a password only with a user name)',
    path: ['password'],
  });

const iotCoreTransportSchema = z
  .object({
    kind: z.literal('iot-core'),
    /** The account's AWS IoT data endpoint (xxxx-ats.iot.REGION.amazonaws.com). */
    endpoint: z.string().min(1, { error: 'must be the AWS IoT Core data endpoint host name' }),
    port: intField(1, 65_535).default(8883),
    certFile: z.string().min(1, { error: 'must name the device certificate file' }),
    keyFile: z.string().min(1, { error: 'must name the private key file' }),
    caFile: z.string().min(1).optional(),
    /** Defaults to thingName. */
    clientId: z.string().min(1).max(128).optional(),
    keepaliveSeconds: intField(5, 1_200).default(60),
    /** Reconnect backoff bounds (the device SDK adds jitter). */
    reconnectMinMs: intField(10, 600_000).default(1_000),
    reconnectMaxMs: intField(10, 600_000).default(30_000),
  })
  .strict();

const greengrassIpcTransportSchema = z.object({ kind: z.literal('greengrass-ipc') }).strict();

export const transportSchema = z.discriminatedUnion(
  'kind',
  [mqttTransportSchema, iotCoreTransportSchema, greengrassIpcTransportSchema],
  { error: 'kind must be one of mqtt, iot-core, greengrass-ipc' },
);

const absolutePath = z
  .string({ error: 'must be an absolute path' })
  .refine((p) => p.startsWith('/') && !p.includes('\0'), { error: 'must be an absolute path' });

/** A POSIX account name as useradd and sudoers accept it without quoting. */
export const USER_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
const userNameField = patternField(
  USER_NAME_PATTERN,
  'a user name (1-32 of [A-Za-z0-9_.-], not starting with "-" or ".")',
);

export const executorSchema = z
  .object({
    /** Where runHandler looks for handlers when `path` is "default" or absent. */
    handlerDirectory: z.string().min(1).optional(),
    /** Directories a runHandler `path` may name (compared after realpath); unset = [handlerDirectory].
     *  The default handler directory is always allowed. The generated sudo rule covers exactly these. */
    handlerDirectories: z.array(absolutePath).optional(),
    /** Where download steps may write; unset = [<stateDirectory>/downloads] (created 0700). */
    downloadDirectories: z.array(absolutePath).optional(),
    /** Whether download steps may read file: URLs (local files the agent can read). */
    allowFileUrls: boolField.default(false),
    /** Executables runCommand may run (names on PATH or absolute paths); empty = runCommand disabled. */
    allowedCommands: z.array(z.string().min(1)).default([]),
    /** Per-step timeout when the document sets none. */
    defaultStepTimeoutSeconds: intField(1, 7 * 86_400).default(3_600),
    /** After SIGTERM to a step's process group, how long before SIGKILL. */
    killGraceSeconds: intField(0, 600).default(10),
    /** Largest file a download step accepts. */
    maxDownloadBytes: intField(1, 2 ** 40).default(1024 ** 3),
    /** Extra variables for every step's environment (e.g. http_proxy, GGJOBS_DRY_RUN); the agent's own
     *  environment is never passed on. GGJOBS_JOB_ID and the other per-job variables cannot be overridden. */
    environment: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name' }),
        z.string().refine((v) => !v.includes('\0'), { error: 'must not contain NUL characters' }),
      )
      .default({}),
    /** Users a step may run as (runAsUser). Default: under Greengrass ["root", the agent's user];
     *  standalone, the agent's user (and root when the agent is root). Others are REJECTED. */
    allowedRunAsUsers: z.array(userNameField).optional(),
    /** The user for steps with an empty runAsUser; default the agent's user. */
    defaultRunAsUser: userNameField.optional(),
    /** A non-root agent runs steps as other allowed users through `sudo -n -u USER --`; the component's
     *  Install step writes the matching rule, and removes it when this is false. */
    sudo: boolField.default(true),
  })
  .strict()
  .refine(
    // Only once both are valid names: a bad name already has its own message.
    (e) =>
      typeof e.defaultRunAsUser !== 'string' ||
      !USER_NAME_PATTERN.test(e.defaultRunAsUser) ||
      !Array.isArray(e.allowedRunAsUsers) ||
      e.allowedRunAsUsers.includes(e.defaultRunAsUser),
    { error: 'must be one of executor.allowedRunAsUsers', path: ['defaultRunAsUser'] },
  );

export const configSchema = z
  .object({
    thingName: thingNameField,
    region: patternField(REGION_PATTERN, 'an AWS region like us-east-1'),
    jobId: jobIdField,
    namespaceId: namespaceIdField,
    /** Journal and outbox live here; relative paths are resolved against the working directory. */
    stateDirectory: z.string().min(1).default('state'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    enroll: enrollSchema.default(() => enrollSchema.parse({})),
    listen: listenSchema.default(() => listenSchema.parse({})),
    transport: transportSchema,
    executor: executorSchema.default(() => executorSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
/** What enrolling reads (ggjobs enroll validates only these). */
export type EnrollSettings = Pick<Config, 'thingName' | 'region' | 'jobId' | 'namespaceId' | 'enroll'> &
  Partial<Pick<Config, 'stateDirectory'>>;
export type TransportConfig = Config['transport'];
export type ExecutorConfig = Config['executor'];
export type RetryConfig = z.infer<typeof retrySchema>;
