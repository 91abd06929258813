// `ggjobs doctor`: what a field technician would otherwise check by hand, one line per check with
// ok / FAILED, what was found and the fix. Exit 0 when every check passes, 1 otherwise.
// Order: configuration (everything else needs it), state directory, journal, handlers, transport, job.
import type { Config } from '../../config/schema.js';
import { loadCommandConfig } from '../command-config.js';
import type { DoctorOptions } from '../commands/diagnostics.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../main.js';
import { type CheckResult, failed, formatChecks, messageOf, passed } from './check.js';
import { checkHandlers } from './handler-checks.js';
import { checkJob, checkTransport } from './network-checks.js';
import { checkJournal, checkStateLock, checkStateWritable } from './state-checks.js';

export interface DoctorRun extends Partial<DoctorOptions> {
  env?: NodeJS.ProcessEnv;
}

async function checkConfig(options: DoctorRun): Promise<{ result: CheckResult; config?: Config }> {
  const name = 'configuration valid';
  const fix = 'ggjobs config check shows every setting and where it came from';
  try {
    const { config, problems } = await loadCommandConfig('start', {
      configFile: options.config,
      env: options.env,
    });
    if (!config) return { result: failed(name, problems.join('\n'), fix) };
    const from = options.config === undefined ? 'no config file' : `config file ${options.config}`;
    return { result: passed(name, `${from}; thing ${config.thingName}, job ${config.jobId}`), config };
  } catch (err) {
    return { result: failed(name, messageOf(err), fix) };
  }
}

export async function doctorChecks(options: DoctorRun): Promise<CheckResult[]> {
  const seconds = Number(options.timeout ?? '10');
  const timeoutMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
  const { result, config } = await checkConfig(options);
  if (!config) return [result];
  const checks = [result];
  checks.push(await checkStateWritable(config.stateDirectory));
  checks.push(await checkStateLock(config.stateDirectory));
  checks.push(await checkJournal(config));
  checks.push(...(await checkHandlers(config.executor)));
  checks.push(...(await checkTransport(config, timeoutMs)));
  if (config.enroll.enabled) checks.push(...(await checkJob(config, timeoutMs)));
  return checks;
}

export async function runDoctor(options: DoctorRun, io: CliIo): Promise<number> {
  const checks = await doctorChecks(options);
  const ok = checks.every((c) => c.ok);
  io.stdout(options.json ? `${JSON.stringify({ ok, checks })}\n` : formatChecks(checks));
  return ok ? EXIT.ok : EXIT.failure;
}
