// Which form log lines take (readable on a terminal, JSON otherwise) and which ending errors a readable
// line already showed. Apart from src/log.ts so the CLI's entry point can read and set them without
// loading pino: `ggjobs --version` loads commander alone.
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

let chosenFormat: LogFormat | undefined;

/** Sets the format every later createLogger() uses (the CLI's --log-format). */
export function setLogFormat(format: LogFormat | undefined): void {
  chosenFormat = format;
}

/** The format in effect: the flag, else GGJOBS_LOG_FORMAT, else json under Greengrass or off a terminal. */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  stderrIsTTY = process.stderr.isTTY === true,
): LogFormat {
  if (chosenFormat) return chosenFormat;
  const fromEnv = env.GGJOBS_LOG_FORMAT?.trim();
  if (fromEnv === 'json' || fromEnv === 'pretty') return fromEnv;
  // The nucleus writes a component's stderr to its log file, read by log managers: keep it JSON.
  if (env.SVCUID && env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT) return 'json';
  return stderrIsTTY ? 'pretty' : 'json';
}

/** Error messages already shown on a pretty log line, so the CLI does not print them a second time. */
export const shownErrors = new Set<string>();

/** Whether a pretty log line of this process already showed `message` (at level error or above). */
export function errorAlreadyShown(message: string): boolean {
  return shownErrors.has(message);
}

/** Flushes of log destinations that write asynchronously (src/log.ts registers them). */
export const pendingLogFlushes = new Set<() => void>();

/**
 * Writes out what asynchronous log destinations still hold, so a line printed next (the CLI's final
 * `ggjobs: <error>`) comes after the log lines before it.
 */
export function flushLogs(): void {
  for (const flush of pendingLogFlushes) {
    try {
      flush();
    } catch {
      // Not open yet or already closed: nothing buffered to lose.
    }
  }
}
