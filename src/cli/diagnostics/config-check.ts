// `ggjobs config check`: the same loading and validation as `ggjobs start` (or --for enroll/status),
// then the effective configuration, one setting per line with the source it came from. Secrets are
// hidden. Exit 0 valid, 2 invalid (a missing or unparseable config file is 2 too, via its error).
import type { ConfigPurpose } from '../../config/command-schemas.js';
import { effectiveSettings, formatEffectiveSettings } from '../../config/effective.js';
import { loadCommandConfig } from '../command-config.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../main.js';

export interface ConfigCheckRun {
  config?: string;
  json?: boolean;
  purpose: ConfigPurpose;
  env?: NodeJS.ProcessEnv;
}

export async function runConfigCheck(options: ConfigCheckRun, io: CliIo): Promise<number> {
  const { config, problems, origins } = await loadCommandConfig(options.purpose, {
    configFile: options.config,
    env: options.env,
  });
  const command = `ggjobs ${options.purpose}`;
  if (!config) {
    if (options.json) io.stdout(`${JSON.stringify({ valid: false, command, problems })}\n`);
    else io.stdout(`configuration invalid for ${command}:\n${problems.map((p) => `  ${p}\n`).join('')}`);
    return EXIT.usage;
  }
  const settings = effectiveSettings(config, origins);
  if (options.json) {
    const out = settings.map((s) => ({
      key: s.key,
      value: s.hidden ? '(value hidden)' : s.raw,
      source: s.source,
    }));
    io.stdout(`${JSON.stringify({ valid: true, command, settings: out })}\n`);
  } else {
    io.stdout(`configuration valid for ${command}\n\n${formatEffectiveSettings(settings)}`);
  }
  return EXIT.ok;
}
