// What the environment contributes to the configuration (README "Configuration", "Environment").
// Two kinds of contribution with different precedence:
// - defaults: what Greengrass (or the AWS tooling) already tells every component: the thing name,
//   the region, and whether the nucleus IPC socket is there. They apply only when no source sets the key.
// - overrides: GGJOBS_* variables, set on purpose by whoever starts ggjobs; they beat the config file.
// Empty variables count as unset.

export interface EnvVariable {
  /** The environment variable. */
  name: string;
  /** The config key path it sets. */
  path: string;
  /** Whether it is a default (below every source) or an override (above the file). */
  kind: 'default' | 'override';
  /** README text. */
  meaning: string;
}

/** Every variable ggjobs reads for its configuration (the README table is generated from the same facts). */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  { name: 'AWS_IOT_THING_NAME', path: 'thingName', kind: 'default', meaning: 'set by Greengrass' },
  { name: 'AWS_REGION', path: 'region', kind: 'default', meaning: 'set by Greengrass' },
  { name: 'AWS_DEFAULT_REGION', path: 'region', kind: 'default', meaning: 'used when AWS_REGION is unset' },
  {
    name: 'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT',
    path: 'transport',
    kind: 'default',
    meaning: 'with SVCUID: transport defaults to {kind: greengrass-ipc}',
  },
  {
    name: 'GGJOBS_DEFAULT_HANDLER_DIRECTORY',
    path: 'executor.handlerDirectory',
    kind: 'default',
    meaning: "set by the component recipe to the artifact's handlers/",
  },
  { name: 'GGJOBS_THING_NAME', path: 'thingName', kind: 'override', meaning: '' },
  { name: 'GGJOBS_REGION', path: 'region', kind: 'override', meaning: '' },
  { name: 'GGJOBS_JOB_ID', path: 'jobId', kind: 'override', meaning: '' },
  { name: 'GGJOBS_NAMESPACE_ID', path: 'namespaceId', kind: 'override', meaning: '' },
  { name: 'GGJOBS_STATE_DIRECTORY', path: 'stateDirectory', kind: 'override', meaning: '' },
  { name: 'GGJOBS_LOG_LEVEL', path: 'logLevel', kind: 'override', meaning: '' },
  { name: 'GGJOBS_MQTT_URL', path: 'transport', kind: 'override', meaning: 'transport {kind: mqtt, url}' },
  { name: 'GGJOBS_ENROLL_ENABLED', path: 'enroll.enabled', kind: 'override', meaning: '' },
  { name: 'GGJOBS_THING_GROUP_NAME', path: 'enroll.thingGroupName', kind: 'override', meaning: '' },
  { name: 'GGJOBS_THING_GROUP_ARN', path: 'enroll.thingGroupArn', kind: 'override', meaning: '' },
  { name: 'GGJOBS_ENROLL_ENDPOINT', path: 'enroll.endpoint', kind: 'override', meaning: '' },
];

export interface EnvConfig {
  /** Applies only where no other source sets the key. */
  defaults: Record<string, unknown>;
  /** Beats the Greengrass configuration and the config file; loses to command-line flags. */
  overrides: Record<string, unknown>;
  /** Dotted key path -> `env NAME`, for error messages. */
  origins: Map<string, string>;
}

function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[keys[keys.length - 1]!] = value;
}

/** True when ggjobs runs as a Greengrass component with IPC access (the nucleus sets both). */
export function hasGreengrassIpc(env: NodeJS.ProcessEnv): boolean {
  return (
    read(env, 'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT') !== undefined &&
    read(env, 'SVCUID') !== undefined
  );
}

/** The configuration the environment contributes. Pure: reads only the given object. */
export function configFromEnv(env: NodeJS.ProcessEnv): EnvConfig {
  const defaults: Record<string, unknown> = {};
  const overrides: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  const put = (target: Record<string, unknown>, path: string, value: unknown, name: string) => {
    setPath(target, path, value);
    origins.set(path, `env ${name}`);
  };

  const thingName = read(env, 'AWS_IOT_THING_NAME');
  if (thingName !== undefined) put(defaults, 'thingName', thingName, 'AWS_IOT_THING_NAME');
  const regionVar = read(env, 'AWS_REGION') !== undefined ? 'AWS_REGION' : 'AWS_DEFAULT_REGION';
  const region = read(env, regionVar);
  if (region !== undefined) put(defaults, 'region', region, regionVar);
  // The recipe points this at the handlers shipped in the artifact; a handler directory set in the
  // component configuration or a local file still wins.
  const handlers = read(env, 'GGJOBS_DEFAULT_HANDLER_DIRECTORY');
  if (handlers !== undefined)
    put(defaults, 'executor.handlerDirectory', handlers, 'GGJOBS_DEFAULT_HANDLER_DIRECTORY');
  if (hasGreengrassIpc(env)) {
    put(
      defaults,
      'transport',
      { kind: 'greengrass-ipc' },
      'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT',
    );
    origins.set('transport.kind', 'env AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT');
  }

  for (const variable of ENV_VARIABLES) {
    if (variable.kind !== 'override') continue;
    const value = read(env, variable.name);
    if (value === undefined) continue;
    if (variable.name === 'GGJOBS_MQTT_URL') {
      put(overrides, 'transport', { kind: 'mqtt', url: value }, variable.name);
      origins.set('transport.kind', `env ${variable.name}`);
      origins.set('transport.url', `env ${variable.name}`);
    } else {
      put(overrides, variable.path, value, variable.name);
    }
  }
  return { defaults, overrides, origins };
}
