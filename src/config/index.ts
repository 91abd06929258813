export { configFromEnv, ENV_VARIABLES, type EnvConfig, hasGreengrassIpc } from './env.js';
export { configFileFormat, parseConfigText, readConfigFile } from './file.js';
export { formatConfigIssues } from './format-issues.js';
export { type LoadConfigOptions, loadConfig } from './load.js';
export {
  type ConfigOrigins,
  type ConfigSources,
  mergeConfigSources,
  mergeConfigSourcesWithOrigins,
  type SourceLabels,
  type SourceName,
} from './merge.js';
export * from './schema.js';
export { configProblems, validateConfig } from './validate.js';
