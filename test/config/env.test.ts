import { describe, expect, it } from 'vitest';
import { configFromEnv, hasGreengrassIpc } from '../../src/config/env.js';

describe('configFromEnv', () => {
  it('takes thing name and region from the Greengrass/AWS variables as defaults', () => {
    const env = configFromEnv({ AWS_IOT_THING_NAME: 'core-1', AWS_REGION: 'eu-central-1' });
    expect(env.defaults).toEqual({ thingName: 'core-1', region: 'eu-central-1' });
    expect(env.overrides).toEqual({});
    expect(env.origins.get('thingName')).toBe('env AWS_IOT_THING_NAME');
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION and falls back to it', () => {
    expect(configFromEnv({ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-west-1' }).defaults.region).toBe(
      'us-west-2',
    );
    const fallback = configFromEnv({ AWS_DEFAULT_REGION: 'eu-west-1' });
    expect(fallback.defaults.region).toBe('eu-west-1');
    expect(fallback.origins.get('region')).toBe('env AWS_DEFAULT_REGION');
  });

  it('maps the GGJOBS_* variables onto config keys as overrides', () => {
    const env = configFromEnv({
      GGJOBS_THING_NAME: 't',
      GGJOBS_REGION: 'ap-south-1',
      GGJOBS_JOB_ID: 'site-maintenance',
      GGJOBS_NAMESPACE_ID: 'acme-ops',
      GGJOBS_STATE_DIRECTORY: '/var/lib/ggjobs',
      GGJOBS_LOG_LEVEL: 'debug',
      GGJOBS_MQTT_URL: 'mqtt://127.0.0.1:1883',
      GGJOBS_ENROLL_ENABLED: 'false',
      GGJOBS_THING_GROUP_NAME: 'site-a',
      GGJOBS_ENROLL_ENDPOINT: 'http://127.0.0.1:4580',
    });
    expect(env.overrides).toEqual({
      thingName: 't',
      region: 'ap-south-1',
      jobId: 'site-maintenance',
      namespaceId: 'acme-ops',
      stateDirectory: '/var/lib/ggjobs',
      logLevel: 'debug',
      transport: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
      enroll: { enabled: 'false', thingGroupName: 'site-a', endpoint: 'http://127.0.0.1:4580' },
    });
    expect(env.origins.get('enroll.thingGroupName')).toBe('env GGJOBS_THING_GROUP_NAME');
    expect(env.origins.get('transport.url')).toBe('env GGJOBS_MQTT_URL');
  });

  it('treats empty variables as unset', () => {
    const env = configFromEnv({ GGJOBS_JOB_ID: '', AWS_REGION: '  ', AWS_DEFAULT_REGION: 'us-east-2' });
    expect(env.overrides).toEqual({});
    expect(env.defaults).toEqual({ region: 'us-east-2' });
  });

  it('defaults the transport to greengrass-ipc only when both nucleus variables are set', () => {
    const socket = { AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: '/gg/ipc.socket' };
    expect(configFromEnv(socket).defaults.transport).toBeUndefined();
    expect(hasGreengrassIpc(socket)).toBe(false);
    const both = { ...socket, SVCUID: 'abc' };
    expect(hasGreengrassIpc(both)).toBe(true);
    expect(configFromEnv(both).defaults.transport).toEqual({ kind: 'greengrass-ipc' });
  });
});
