import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigFileError, ConfigInvalidError } from '../../src/errors.js';

const required = {
  thingName: 'core-1',
  region: 'us-east-1',
  jobId: 'site-maintenance',
  namespaceId: 'acme-ops',
};
const mqtt = { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' };

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ggjobs-load-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it('loads a YAML file and fills in the defaults', async () => {
    const configFile = await file(
      'ggjobs.yaml',
      'thingName: core-1\nregion: us-east-1\njobId: site-maintenance\nnamespaceId: acme-ops\ntransport:\n  kind: mqtt\n  url: mqtt://127.0.0.1:1883\nenroll:\n  retry:\n    maxAttempts: 3\n',
    );
    const config = await loadConfig({ configFile, env: {} });
    expect(config).toMatchObject({ ...required, transport: mqtt, stateDirectory: 'state' });
    expect(config.enroll.retry.maxAttempts).toBe(3);
  });

  it('loads a JSON file', async () => {
    const configFile = await file('ggjobs.json', JSON.stringify({ ...required, transport: mqtt }));
    await expect(loadConfig({ configFile, env: {} })).resolves.toMatchObject(required);
  });

  it('takes the handler directory the recipe sets as a default that configuration still overrides', async () => {
    const env = {
      AWS_IOT_THING_NAME: 'core-1',
      AWS_REGION: 'us-east-1',
      GGJOBS_MQTT_URL: mqtt.url,
      GGJOBS_DEFAULT_HANDLER_DIRECTORY: '/greengrass/v2/packages/artifacts-unarchived/x/handlers',
    };
    const base = { jobId: 'j', namespaceId: 'n' };
    expect((await loadConfig({ env, greengrass: base })).executor.handlerDirectory).toBe(
      '/greengrass/v2/packages/artifacts-unarchived/x/handlers',
    );
    const fromGreengrass = await loadConfig({
      env,
      greengrass: { ...base, executor: { handlerDirectory: '/opt/site-handlers' } },
    });
    expect(fromGreengrass.executor.handlerDirectory).toBe('/opt/site-handlers');
    const configFile = await file('h.yaml', 'executor:\n  handlerDirectory: /etc/ggjobs/handlers\n');
    expect((await loadConfig({ env, greengrass: base, configFile })).executor.handlerDirectory).toBe(
      '/etc/ggjobs/handlers',
    );
  });

  it('each source beats the previous one: env default < Greengrass < file < GGJOBS_* env < flags', async () => {
    const env = {
      AWS_IOT_THING_NAME: 'from-env-default',
      AWS_REGION: 'us-east-1',
      GGJOBS_MQTT_URL: mqtt.url,
    };
    const base = { jobId: 'j', namespaceId: 'n' };
    const greengrass = { ...base, thingName: 'from-greengrass', logLevel: 'warn' };
    const configFile = await file(
      'g.yaml',
      'thingName: from-file\nlogLevel: error\nstateDirectory: /from/file\n',
    );

    expect((await loadConfig({ env, greengrass: base })).thingName).toBe('from-env-default');
    expect((await loadConfig({ env, greengrass })).thingName).toBe('from-greengrass');
    const fromFile = await loadConfig({ env, greengrass, configFile });
    expect(fromFile.thingName).toBe('from-file');
    expect(fromFile.logLevel).toBe('error');
    const fromEnv = await loadConfig({
      env: { ...env, GGJOBS_THING_NAME: 'from-ggjobs-env', GGJOBS_LOG_LEVEL: 'debug' },
      greengrass,
      configFile,
    });
    expect(fromEnv.thingName).toBe('from-ggjobs-env');
    expect(fromEnv.logLevel).toBe('debug');
    expect(fromEnv.stateDirectory).toBe('/from/file');
    const fromFlags = await loadConfig({
      env: { ...env, GGJOBS_THING_NAME: 'from-ggjobs-env' },
      greengrass,
      configFile,
      flags: { thingName: 'from-flag', jobId: undefined },
    });
    expect(fromFlags.thingName).toBe('from-flag');
    expect(fromFlags.jobId).toBe('j');
  });

  it('GGJOBS_MQTT_URL replaces a transport of another kind from the file', async () => {
    const configFile = await file(
      'g.yaml',
      'transport:\n  kind: iot-core\n  endpoint: abc-ats.iot.us-east-1.amazonaws.com\n  certFile: c.pem\n  keyFile: k.pem\n',
    );
    const config = await loadConfig({ configFile, greengrass: required, env: { GGJOBS_MQTT_URL: mqtt.url } });
    expect(config.transport).toMatchObject(mqtt);
  });

  it('defaults the transport to Greengrass IPC inside a Greengrass component', async () => {
    const env = { AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '/gg/ipc.socket', SVCUID: 'svc' };
    expect((await loadConfig({ env, greengrass: required })).transport).toEqual({ kind: 'greengrass-ipc' });
    const configFile = await file('g.yaml', `transport:\n  kind: mqtt\n  url: ${mqtt.url}\n`);
    expect((await loadConfig({ env, greengrass: required, configFile })).transport.kind).toBe('mqtt');
  });

  it('says how to configure the transport when nothing sets it', async () => {
    const err = await loadConfig({ env: {}, greengrass: required }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as Error).message).toMatch(/^transport: required \(/);
  });

  it('says which source a bad value came from', async () => {
    const configFile = await file('bad.yaml', 'logLevel: loud\n');
    const err = await loadConfig({
      configFile,
      env: { GGJOBS_JOB_ID: 'x y', GGJOBS_MQTT_URL: mqtt.url },
      greengrass: { ...required, jobId: 'ok' },
      flags: { namespaceId: 'a b' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as Error).message.split('\n')).toEqual([
      'jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-] (from env GGJOBS_JOB_ID)',
      'namespaceId "a b": must be 1-64 characters of [a-zA-Z0-9_-] (from flag --namespace-id)',
      `logLevel "loud": must be one of fatal, error, warn, info, debug, trace, silent (from config file ${configFile})`,
    ]);
  });

  it('fails with ConfigFileError for a missing or unparseable file', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(loadConfig({ configFile: missing, env: {} })).rejects.toThrow(ConfigFileError);
    const broken = await file('broken.json', '{"jobId": }');
    await expect(loadConfig({ configFile: broken, env: {} })).rejects.toThrow(
      `config file ${broken}: invalid JSON at line 1, column 11`,
    );
  });
});
