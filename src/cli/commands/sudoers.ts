// `ggjobs sudoers`: prints (default), installs (--apply) or removes (--remove) the sudo rule that lets
// the unprivileged component user run job steps as the allowed users (README "Privilege separation").
// The recipe's Install step (RequiresPrivilege) runs `ggjobs sudoers --apply` on every deployment;
// with executor.sudo false, --apply removes the rule instead. The work is imported on demand.
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { ConfigFileError, ConfigInvalidError, UsageError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';

interface SudoersOptions {
  config?: string;
  executorJson?: string;
  component: string;
  user?: string;
  userOf?: string;
  handlerDirectory?: string;
  installHandlers?: string;
  apply?: boolean;
  remove?: boolean;
  directory?: string;
}

/** Where the executor section comes from: --executor-json, $GGJOBS_EXECUTOR_CONFIG (the recipe
 *  interpolates {configuration:/executor} into it), or the `executor` key of --config FILE. */
async function executorInput(options: SudoersOptions, env: NodeJS.ProcessEnv): Promise<unknown> {
  const json = options.executorJson ?? (env.GGJOBS_EXECUTOR_CONFIG?.trim() || undefined);
  if (json !== undefined) {
    const origin = options.executorJson !== undefined ? '--executor-json' : 'env GGJOBS_EXECUTOR_CONFIG';
    try {
      return JSON.parse(json) as unknown;
    } catch {
      throw new ConfigInvalidError(`${origin}: must be the executor configuration as a JSON object`);
    }
  }
  if (!options.config) return {};
  let text: string;
  try {
    text = await readFile(options.config, 'utf8');
  } catch (err) {
    throw new ConfigFileError(`config file ${options.config} cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  const { parse: parseYaml } = await import('yaml');
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigFileError(`config file ${options.config} is not YAML/JSON: ${(err as Error).message}`);
  }
  return (doc as { executor?: unknown } | null)?.executor ?? {};
}

export function registerSudoers(program: Command, io: CliIo, result: CommandResult): void {
  program
    .command('sudoers')
    .description(
      'print, install (--apply) or remove (--remove) the sudo rule for running steps as other users',
    )
    .option('-c, --config <file>', 'config file (YAML or JSON) whose executor section to use')
    .option('--executor-json <json>', 'the executor configuration as JSON (default $GGJOBS_EXECUTOR_CONFIG)')
    .option('--component <name>', 'Greengrass component name (names the file)', 'io.ggjobs.JobsAgent')
    .option('--user <name>', 'the user the agent runs as')
    .option('--user-of <path>', "take the user from the owner of PATH (the component's work folder)")
    .option(
      '--handler-directory <dir>',
      'handler directory when executor.handlerDirectory is unset (default $GGJOBS_DEFAULT_HANDLER_DIRECTORY)',
    )
    .option(
      '--install-handlers <dir>',
      'with --apply: first copy the handlers in DIR into the handler directory, owned by root',
    )
    .option(
      '--apply',
      'write the rule into /etc/sudoers.d after visudo -cf accepts it (remove it when executor.sudo is false)',
    )
    .option('--remove', 'remove the rule')
    .option('--directory <dir>', 'the sudoers.d directory', '/etc/sudoers.d')
    .action(async (options: SudoersOptions) => {
      if (options.apply && options.remove) throw new UsageError('--apply and --remove exclude each other');
      const install = await import('../../run/sudoers-install.js');
      const { sudoersFileName } = await import('../../run/sudoers.js');
      const fileName = sudoersFileName(options.component);
      if (options.remove) {
        const removed = await install.removeRule(fileName, options.directory);
        io.stdout(`${removed.action === 'removed' ? 'removed' : 'no rule at'} ${removed.path}\n`);
        result.exitCode = EXIT.ok;
        return;
      }
      const { executorSchema } = await import('../../config/schema.js');
      const parsed = executorSchema.safeParse(await executorInput(options, process.env));
      if (!parsed.success)
        throw new ConfigInvalidError(
          parsed.error.issues.map((i) => `executor.${i.path.join('.')}: ${i.message}`).join('\n'),
        );
      const executor = parsed.data;
      const defaultHandlerDirectory =
        options.handlerDirectory ?? process.env.GGJOBS_DEFAULT_HANDLER_DIRECTORY;
      if (options.installHandlers) {
        if (!options.apply) throw new UsageError('--install-handlers goes with --apply');
        if (!defaultHandlerDirectory)
          throw new UsageError(
            '--install-handlers needs --handler-directory (or $GGJOBS_DEFAULT_HANDLER_DIRECTORY)',
          );
        const copied = await install.installHandlers(options.installHandlers, defaultHandlerDirectory);
        io.stdout(`installed ${copied.length} handlers into ${defaultHandlerDirectory} (owned by root)\n`);
      }
      if (options.apply && !executor.sudo) {
        const removed = await install.removeRule(fileName, options.directory);
        io.stdout(
          `executor.sudo is false: ${removed.action === 'removed' ? 'removed' : 'no rule at'} ${removed.path}\n`,
        );
        result.exitCode = EXIT.ok;
        return;
      }
      const user =
        options.user ?? (options.userOf ? await install.ownerOf(options.userOf) : userInfo().username);
      if (user === 'root' && !options.user)
        throw new UsageError('name the user the agent runs as with --user NAME or --user-of PATH');
      const rule = await install.buildRule({
        executor,
        component: options.component,
        user,
        defaultHandlerDirectory,
      });
      for (const warning of rule.warnings) io.stderr(`ggjobs sudoers: ${warning}\n`);
      if (!options.apply) {
        io.stdout(rule.text);
        result.exitCode = EXIT.ok;
        return;
      }
      const applied = await install.installRule(rule, options.directory);
      if (applied.action === 'skipped') io.stderr(`ggjobs sudoers: ${applied.reason}\n`);
      else io.stdout(`installed ${applied.path} (checked with visudo -cf)\n`);
      result.exitCode = EXIT.ok;
    });
}
