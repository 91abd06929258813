// `ggjobs local`: runs the embedded local AWS IoT stack (MQTT broker with the Jobs data plane, and the
// REST-JSON control plane the AWS SDK and CLI talk to) until SIGINT or SIGTERM, then closes it and
// exits 0. With --json, prints exactly one line once everything listens:
//   {"mqttUrl":"mqtt://127.0.0.1:1883","controlPlaneEndpoint":"http://127.0.0.1:4580"}
// With --tls the line also has "mqttsUrl" and "caFile" (MQTT over TLS with client certificates).
import { type Command, InvalidArgumentError, Option } from 'commander';
import { REGION_PATTERN } from '../../config/patterns.js';
// Only the defaults are loaded up front: the stack itself (aedes, the control plane) is imported when
// `ggjobs local` runs, so no other command pays for it.
import {
  DEFAULT_HTTP_PORT,
  DEFAULT_MQTT_PORT,
  DEFAULT_MQTTS_PORT,
  defaultTlsDirectory,
  DEFAULT_REGION,
  NOTIFY_TOPICS_MODES,
  type NotifyTopicsMode,
  type RateLimit,
} from '../../local/defaults.js';
import type { LocalStack } from '../../local/index.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';
import { registerLocalCerts, tlsBannerLines } from './local-tls.js';

/** A TCP port: a whole number from 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 (any free port) to 65535.');
  }
  return Number(value);
}

export function parseRegion(value: string): string {
  if (!REGION_PATTERN.test(value)) {
    throw new InvalidArgumentError('expected an AWS region such as us-east-1.');
  }
  return value;
}

/**
 * `OP=RATE[:BURST]`, e.g. `data:UpdateJobExecution=5:10` or `AssociateTargetsWithJob=0.5`. OP may
 * contain ':' (the data-plane prefix) but not '='. RATE is requests per second (>= 0, fractions
 * allowed), BURST a whole number >= 0.
 */
export function parseRateLimit(value: string): { operation: string; limit: RateLimit } {
  const eq = value.lastIndexOf('=');
  const operation = eq > 0 ? value.slice(0, eq).trim() : '';
  const [rateText = '', burstText, ...extra] = (eq > 0 ? value.slice(eq + 1) : '').split(':');
  const rate = Number(rateText);
  const usage = 'expected OP=RATE[:BURST], e.g. data:UpdateJobExecution=5:10';
  if (!operation || extra.length > 0 || rateText.trim() === '' || !Number.isFinite(rate) || rate < 0) {
    throw new InvalidArgumentError(`${usage}; RATE is requests per second (a number >= 0).`);
  }
  if (burstText === undefined) return { operation, limit: { ratePerSecond: rate } };
  if (!/^\d+$/.test(burstText.trim())) {
    throw new InvalidArgumentError(`${usage}; BURST is a whole number >= 0.`);
  }
  return { operation, limit: { ratePerSecond: rate, burst: Number(burstText) } };
}

/** --minute-ms: a whole number of milliseconds >= 1 that one job-timer minute lasts. */
export function parseMinuteMs(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a whole number of milliseconds >= 1 (60000 = real minutes).');
  }
  return Number(value);
}

function collectRateLimit(value: string, previous: Record<string, RateLimit>): Record<string, RateLimit> {
  const { operation, limit } = parseRateLimit(value);
  return { ...previous, [operation]: limit };
}

export interface LocalCommandOptions {
  mqttPort: number;
  httpPort: number;
  host: string;
  notifyTopics: NotifyTopicsMode;
  rateLimit: Record<string, RateLimit>;
  region: string;
  json?: boolean;
  minuteMs?: number;
  tls?: boolean;
  mqttsPort: number;
  tlsDir: string;
}

/** The human-readable banner printed when --json is not given. */
export function localBanner(stack: LocalStack): string {
  const http = stack.controlPlaneEndpoint;
  const { hostname, port } = new URL(stack.mqttUrl);
  return [
    'ggjobs local AWS IoT stack is running (Ctrl-C to stop).',
    `  MQTT broker + Jobs data plane: ${stack.mqttUrl}`,
    `  Control plane (HTTP):          ${http}`,
    ...tlsBannerLines(stack),
    `  Region ${stack.region}, account ${stack.accountId}; any credentials are accepted.`,
    '',
    'Try:',
    `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws iot list-jobs --region ${stack.region} --endpoint-url ${http}`,
    `  mosquitto_sub -h ${hostname.replace(/^\[|\]$/g, '')} -p ${port} -v -t '$aws/things/+/jobs/#'`,
    '',
  ].join('\n');
}

/** The warning for a bind address other than loopback: the stack has no authentication at all. */
export function exposureWarning(host: string): string | undefined {
  const h = host
    .trim()
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  if (h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)) return undefined;
  return (
    `ggjobs local: WARNING: listening on ${host}, not loopback. The broker and the control plane have NO ` +
    'authentication: anyone who can reach this address can create jobs that devices run, and read ' +
    'or change every job. Use it only on a network you trust.\n'
  );
}

/** Resolves with the first SIGINT or SIGTERM (and stops listening for them). */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runLocal(
  options: LocalCommandOptions,
  io: CliIo,
  untilStopped: () => Promise<unknown> = nextStopSignal,
): Promise<void> {
  const [{ startLocalStack }, { createLogger }] = await Promise.all([
    import('../../local/index.js'),
    import('../../log.js'),
  ]);
  const logger = createLogger();
  // Listen for signals before starting, so a signal during start-up still closes the stack cleanly.
  const stopped = untilStopped();
  const stack = await startLocalStack({
    host: options.host,
    mqttPort: options.mqttPort,
    httpPort: options.httpPort,
    region: options.region,
    notifyTopics: options.notifyTopics,
    rateLimits: options.rateLimit,
    ...(options.minuteMs === undefined ? {} : { minuteMs: options.minuteMs }),
    ...(options.tls ? { tls: { directory: options.tlsDir, port: options.mqttsPort } } : {}),
    logger,
  });
  try {
    const warning = exposureWarning(options.host);
    if (warning) io.stderr(warning);
    if (options.json) {
      const tls = stack.mqttsUrl ? { mqttsUrl: stack.mqttsUrl, caFile: stack.caFile } : {};
      io.stdout(
        `${JSON.stringify({ mqttUrl: stack.mqttUrl, ...tls, controlPlaneEndpoint: stack.controlPlaneEndpoint })}\n`,
      );
    } else {
      io.stdout(localBanner(stack));
    }
    const signal = await stopped;
    logger.info({ signal }, 'stopping the local stack');
  } finally {
    await stack.close();
  }
}

export function registerLocal(program: Command, io: CliIo, result: CommandResult): void {
  const local = program
    .command('local')
    .description(
      'run the embedded local AWS IoT stack (MQTT broker with the Jobs data plane, and the HTTP control plane) until SIGINT/SIGTERM',
    )
    .option('--mqtt-port <port>', 'MQTT port, 0 = any free port', parsePort, DEFAULT_MQTT_PORT)
    .option('--http-port <port>', 'control plane HTTP port, 0 = any free port', parsePort, DEFAULT_HTTP_PORT)
    .option('--host <address>', 'address both listeners bind to', '127.0.0.1')
    .addOption(
      new Option('--notify-topics <form>', 'notification topics published for namespaced jobs')
        .choices(NOTIFY_TOPICS_MODES)
        .default('both'),
    )
    .addOption(
      new Option(
        '--rate-limit <op=rate[:burst]>',
        'throttle an operation, e.g. data:UpdateJobExecution=5:10 or DescribeJob=1 (repeatable)',
      )
        .argParser(collectRateLimit)
        .default({}, 'none'),
    )
    .option('--region <region>', 'region the stack reports in ARNs', parseRegion, DEFAULT_REGION)
    .option(
      '--minute-ms <ms>',
      'milliseconds one minute of every job timer lasts (timeouts); default 60000 = real minutes',
      parseMinuteMs,
    )
    .option('--tls', 'also serve MQTT over TLS with client certificates (as AWS IoT Core does)')
    .option(
      '--mqtts-port <port>',
      'MQTT over TLS port (with --tls), 0 = any free port',
      parsePort,
      DEFAULT_MQTTS_PORT,
    )
    .option(
      '--tls-dir <dir>',
      'directory of ca.pem, ca.key, server.pem, server.key (created when missing) and device certificates',
      defaultTlsDirectory(),
    )
    .option(
      '--json',
      'print one JSON line {mqttUrl, mqttsUrl?, caFile?, controlPlaneEndpoint} once listening',
    )
    .action(async (options: LocalCommandOptions) => {
      await runLocal(options, io);
      result.exitCode = EXIT.ok;
    });
  registerLocalCerts(local, io, result);
}
