// One logger for the whole agent, with anything that looks like a credential redacted, so logs can be
// shared from the field. Two forms (README "Logs"):
// - json: pino JSON lines on stderr, for log collectors and the Greengrass component log;
// - pretty: one readable line per entry (`07:00:59 ERROR ggjobs failed; stopping: job "x" not found`),
//   written synchronously so lines keep their order and none is lost when the process exits.
// Default: pretty when stderr is a terminal, json otherwise and always under Greengrass; the
// `--log-format` flag (or GGJOBS_LOG_FORMAT) chooses explicitly.
import { type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

import { flushLogs, logFormat, pendingLogFlushes, shownErrors } from './log-format.js';

export { errorAlreadyShown, LOG_FORMATS, type LogFormat, logFormat, setLogFormat } from './log-format.js';

const REDACT = [
  'password',
  '*.password',
  '*.*.password',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
  'accessKeyId',
  '*.accessKeyId',
  'credentials',
  '*.credentials',
  'authToken',
  '*.authToken',
  'headers.authorization',
  '*.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Force pretty output on or off; by default the process-wide format (see logFormat()). */
  pretty?: boolean;
  /** Synchronous writes to stderr; default only at debug/trace or with GGJOBS_LOG_SYNC=true. */
  sync?: boolean;
  /** Write here instead of stderr (tests). */
  destination?: NodeJS.WritableStream;
}

function errorText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  )
    return (value as { message: string }).message;
  return undefined;
}

/** Formats one log entry as a readable line; set by loadPrettyLogs(). */
type PrettyFormatter = (entry: Record<string, unknown>) => string;
let prettyFormatter: PrettyFormatter | undefined;

/**
 * Loads the readable form (pino-pretty) before the first logger is made. Separate and asynchronous so
 * that nothing writing JSON (the component, a service) ever loads pino-pretty; the CLI calls it when
 * the format in effect is `pretty`.
 */
export async function loadPrettyLogs(): Promise<void> {
  prettyFormatter ??= (await import('./log-pretty.js')).prettyFormatter(errorText);
}

/** A pino destination that prints each JSON entry as one readable line. */
function prettyDestination(
  format: PrettyFormatter,
  write: (text: string) => void,
): { write: (line: string) => void } {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        write(line);
        return;
      }
      const err = errorText(entry.err);
      if (err && typeof entry.level === 'number' && entry.level >= 50) shownErrors.add(err);
      write(format(entry));
    },
  };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: REDACT, censor: '[redacted]' };
  const pretty = options.pretty ?? (!options.destination && logFormat() === 'pretty');
  // Without loadPrettyLogs() first (library use), the lines stay JSON.
  if (pretty && prettyFormatter) {
    const out = options.destination;
    const destination = prettyDestination(prettyFormatter, (text) =>
      out ? out.write(text) : process.stderr.write(text),
    );
    return pino({ level, redact }, destination);
  }
  if (options.destination) return pino({ level, redact }, options.destination as Parameters<typeof pino>[1]);
  // Asynchronous writes at info and above keep logging off the execution's hot path; debug/trace (or
  // GGJOBS_LOG_SYNC=true) write synchronously, line by line, for when every line must survive a crash.
  const sync =
    options.sync ?? (process.env.GGJOBS_LOG_SYNC === 'true' || level === 'debug' || level === 'trace');
  const destination = pino.destination({ fd: 2, sync });
  if (!sync) {
    if (pendingLogFlushes.size === 0) process.once('exit', flushLogs);
    pendingLogFlushes.add(() => destination.flushSync());
  }
  return pino({ level, redact }, destination);
}

/** A logger that discards everything (library use, tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
