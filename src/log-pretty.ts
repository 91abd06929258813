// The readable log form: pino-pretty, one line per entry. Loaded only through loadPrettyLogs() in
// src/log.ts, so that a process writing JSON never loads it.
import pinoPretty from 'pino-pretty';

export function prettyFormatter(
  errorText: (value: unknown) => string | undefined,
): (entry: Record<string, unknown>) => string {
  return pinoPretty.prettyFactory({
    colorize: false,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,err',
    messageFormat: (entry, messageKey) => {
      const message = String(entry[messageKey] ?? '');
      const err = errorText(entry.err);
      return err ? `${message}: ${err}` : message;
    },
  }) as (entry: Record<string, unknown>) => string;
}
