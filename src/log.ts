// One logger for the whole agent: JSON lines on stderr (pretty when stderr is a TTY), with
// anything that looks like a credential redacted, so logs can be shared from the field.
import { type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

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
  /** Force pretty output on or off; by default pretty only when stderr is a TTY. */
  pretty?: boolean;
  /** Synchronous writes to stderr; default only at debug/trace or with GGJOBS_LOG_SYNC=true. */
  sync?: boolean;
  /** Write here instead of stderr (tests). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: REDACT, censor: '[redacted]' };
  const pretty = options.pretty ?? (!options.destination && process.stderr.isTTY === true);
  if (pretty) {
    return pino({
      level,
      redact,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    });
  }
  if (options.destination) return pino({ level, redact }, options.destination as Parameters<typeof pino>[1]);
  // Asynchronous writes at info and above keep logging off the execution's hot path; debug/trace (or
  // GGJOBS_LOG_SYNC=true) write synchronously, line by line, for when every line must survive a crash.
  const sync =
    options.sync ?? (process.env.GGJOBS_LOG_SYNC === 'true' || level === 'debug' || level === 'trace');
  const destination = pino.destination({ fd: 2, sync });
  if (!sync) {
    process.once('exit', () => {
      try {
        destination.flushSync();
      } catch {
        // Not open yet or already closed: nothing buffered to lose.
      }
    });
  }
  return pino({ level, redact }, destination);
}

/** A logger that discards everything (library use, tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
