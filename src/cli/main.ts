// The `ggjobs` command. Thin on purpose: each subcommand lives in commands/ and calls into the parts
// of src/ that do the work; this file only wires them up and maps errors to exit codes.
// Start-up cost: `ggjobs --version` never gets here (entry.ts answers it); a commands/ module only
// declares its options; its action imports what it runs (config, agent, AWS SDK, local stack) on
// demand, so `--help` loads commander alone and each command loads only its own code. Keep new
// commands that way.
import { Command, CommanderError, Option } from 'commander';
import { GgjobsError } from '../errors.js';
import {
  errorAlreadyShown,
  flushLogs,
  LOG_FORMATS,
  type LogFormat,
  logFormat,
  setLogFormat,
} from '../log-format.js';
import { registerDemo } from './commands/demo.js';
import { registerDiagnostics } from './commands/diagnostics.js';
import { registerEnroll } from './commands/enroll.js';
import { registerLocal } from './commands/local.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerSudoers } from './commands/sudoers.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { packageVersion } from './version.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Holds the exit code a subcommand decided on (commander actions cannot return one). */
export interface CommandResult {
  exitCode: number;
  /**
   * The command has closed everything it opened and nothing else may run: the process entry point
   * exits at once instead of waiting for the event loop to drain. `start` sets it, because the device
   * SDK's native MQTT 5 client (iot-core transport) can hold the loop for many seconds after a clean
   * close (awslabs/aws-crt-nodejs issue 600), and a supervisor's stop timeout must not be spent there.
   */
  exitPromptly?: boolean;
}

export function buildProgram(io: CliIo, result: CommandResult): Command {
  const program = new Command('ggjobs')
    .description('AWS IoT Greengrass v2 device agent for continuous, namespaced IoT jobs')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError('(run ggjobs --help for usage)')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  // Logs: readable lines on a terminal, JSON lines otherwise (and under Greengrass); the flag decides.
  program
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines on stderr: json or pretty (default: pretty on a terminal)',
      ).choices(LOG_FORMATS),
    )
    .hook('preAction', async (command) => {
      setLogFormat(command.opts<{ logFormat?: LogFormat }>().logFormat);
      // Only a readable log loads pino-pretty (a device's JSON log never does).
      if (logFormat() === 'pretty') await (await import('../log.js')).loadPrettyLogs();
    });
  registerLocal(program, io, result);
  registerEnroll(program, io, result);
  registerStart(program, io, result);
  registerDemo(program, io, result);
  registerStatus(program, io, result);
  registerDiagnostics(program, io, result);
  registerSudoers(program, io, result);
  return program;
}

/** What the installed command and the component bundle run: main(), then the process exit code. */
export async function runFromProcess(argv: string[]): Promise<void> {
  const result: CommandResult = { exitCode: EXIT.ok };
  const code = await main(argv, processIo, result);
  process.exitCode = code;
  // 'exit' listeners (the logger's final flush) still run.
  if (result.exitPromptly) process.exit(code);
}

export async function main(
  argv: string[],
  io: CliIo = processIo,
  result: CommandResult = { exitCode: EXIT.ok },
): Promise<number> {
  // package-lock pins an AWS SDK release that supports Node 20; its notice about *future* releases
  // needing Node 22 is not actionable on a device, so it is not printed into the agent's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const program = buildProgram(io, result);
  if (argv.length <= 2) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv);
    return result.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exitCode 0; everything else is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof GgjobsError) {
      // On a terminal the error that ends the process is printed once: a readable log line may have shown it.
      // After the log lines before it, which may still sit in an asynchronous log destination.
      flushLogs();
      if (!(logFormat() === 'pretty' && errorAlreadyShown(err.message)))
        io.stderr(`ggjobs: ${err.message}\n`);
      return exitCodeFor(err);
    }
    io.stderr(
      `ggjobs: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return EXIT.failure;
  }
}
