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
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino({ level, redact }, destination as Parameters<typeof pino>[1]);
}

/** A logger that discards everything (library use, tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
