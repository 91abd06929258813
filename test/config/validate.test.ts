import { describe, expect, it } from 'vitest';
import { mergeConfigSourcesWithOrigins } from '../../src/config/merge.js';
import { configProblems, validateConfig } from '../../src/config/validate.js';
import { ConfigInvalidError } from '../../src/errors.js';

const valid = {
  thingName: 'core-1',
  region: 'us-east-1',
  jobId: 'site-maintenance',
  namespaceId: 'acme-ops',
  transport: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
};

function problemsWith(patch: Record<string, unknown>): string[] {
  return configProblems({ ...valid, ...patch });
}

describe('validateConfig', () => {
  it('fills in the defaults of a minimal valid configuration', () => {
    const config = validateConfig(valid);
    expect(config.stateDirectory).toBe('state');
    expect(config.logLevel).toBe('info');
    expect(config.enroll.retry).toEqual({
      maxAttempts: 8,
      baseDelayMs: 250,
      maxDelayMs: 20_000,
      maxTotalMs: 120_000,
    });
    expect(config.transport).toMatchObject({ kind: 'mqtt', rejectUnauthorized: true });
  });

  it('accepts numbers and booleans written as strings (Greengrass, YAML)', () => {
    const config = validateConfig({ ...valid, enroll: { enabled: 'false', retry: { maxAttempts: '3' } } });
    expect(config.enroll.enabled).toBe(false);
    expect(config.enroll.retry.maxAttempts).toBe(3);
  });

  it('throws ConfigInvalidError with one line per problem', () => {
    let error: unknown;
    try {
      validateConfig({ ...valid, jobId: 'x y', logLevel: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).code).toBe('GGJOBS_ERR_CONFIG_INVALID');
    expect((error as Error).message.split('\n')).toEqual([
      'jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-]',
      'logLevel "loud": must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });
});

describe('config error messages', () => {
  it('names a bad pattern value and what is allowed', () => {
    expect(problemsWith({ jobId: 'x y' })).toEqual(['jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-]']);
  });

  it('names a bad number with its path', () => {
    expect(problemsWith({ enroll: { retry: { maxAttempts: 'abc' } } })).toEqual([
      'enroll.retry.maxAttempts "abc": must be a whole number from 1 to 100',
    ]);
    expect(problemsWith({ enroll: { retry: { maxAttempts: 101 } } })).toEqual([
      'enroll.retry.maxAttempts 101: must be a whole number from 1 to 100',
    ]);
  });

  it('lists the transport kinds', () => {
    expect(problemsWith({ transport: { kind: 'tcp' } })).toEqual([
      'transport.kind "tcp": must be one of mqtt, iot-core, greengrass-ipc',
    ]);
  });

  it('suggests the key meant by a misspelt one', () => {
    expect(problemsWith({ enroll: { thingGroupNme: 'site-a' } })).toEqual([
      'enroll.thingGroupNme: unknown key (did you mean thingGroupName?)',
    ]);
    expect(problemsWith({ jobid: 'j' })).toEqual(['jobid: unknown key (did you mean jobId?)']);
  });

  it('lists the allowed keys when nothing is close', () => {
    expect(problemsWith({ enroll: { frobnicate: 1 } })).toEqual([
      'enroll.frobnicate: unknown key (allowed: enabled, thingGroupName, thingGroupArn, groupPattern, comment, endpoint, retry, firstBootWaitSeconds, reverifyHours)',
    ]);
  });

  it('knows the keys of the transport kind in use', () => {
    const [iotCore] = problemsWith({
      transport: { kind: 'iot-core', endpoint: 'e', certFile: 'c', keyFile: 'k', zzzz: 'x' },
    });
    expect(iotCore).toMatch(
      /^transport\.zzzz: unknown key \(allowed: kind, endpoint, port, certFile, keyFile, .*\)$/,
    );
    expect(iotCore).not.toContain('url');
    expect(problemsWith({ transport: { kind: 'mqtt', url: 'mqtt://h', passwrd: 'x' } })).toEqual([
      'transport.passwrd: unknown key (did you mean password?)',
    ]);
  });

  it('says what a missing required key must hold', () => {
    const { jobId: _jobId, ...withoutJob } = valid;
    expect(configProblems(withoutJob)).toEqual(['jobId: required (1-64 characters of [a-zA-Z0-9_-])']);
    expect(
      configProblems({ ...valid, transport: { kind: 'iot-core', certFile: 'c', keyFile: 'k' } }),
    ).toEqual(['transport.endpoint: required (the AWS IoT Core data endpoint host name)']);
    expect(configProblems({ ...valid, transport: {} })).toEqual([
      'transport.kind: required (one of mqtt, iot-core, greengrass-ipc)',
    ]);
  });

  it('says how to configure a missing transport', () => {
    const { transport: _t, ...withoutTransport } = valid;
    const problems = configProblems(withoutTransport);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^transport: required \(.*transport\.kind.*GGJOBS_MQTT_URL.*Greengrass/);
  });

  it('refuses an MQTT password without a user name (the broker would never see it)', () => {
    const problems = problemsWith({ transport: { kind: 'mqtt', url: 'mqtt://h', password: 'pw-1' } });
    expect(problems).toEqual([
      'transport.password (value hidden): needs transport.username too (MQTT sends a password only with a user name)',
    ]);
    expect(
      problemsWith({ transport: { kind: 'mqtt', url: 'mqtt://h', username: 'u', password: 'pw-1' } }),
    ).toEqual([]);
  });

  it('never prints the value of a secret key', () => {
    const problems = problemsWith({ transport: { kind: 'mqtt', url: 'mqtt://h', password: 12345678 } });
    expect(problems).toEqual(['transport.password (value hidden): must be a string']);
    expect(problems.join('\n')).not.toContain('12345678');
    const env = problemsWith({ executor: { environment: { HTTPS_PROXY: 'http://u:pw\u0000@proxy' } } });
    expect(env).toEqual(['executor.environment.HTTPS_PROXY (value hidden): must not contain NUL characters']);
  });

  it('JSON-quotes values and truncates long ones to one line', () => {
    const long = `${'a'.repeat(100)}\nsecond line`;
    const [line] = problemsWith({ jobId: long });
    expect(line).toMatch(/^jobId "a{58}…: must be 1-64 characters of \[a-zA-Z0-9_-\]$/);
    expect(line).not.toContain('\n');
  });

  it('describes wrong types and empty strings in plain words', () => {
    expect(problemsWith({ executor: { allowedCommands: 'ls' } })).toEqual([
      'executor.allowedCommands "ls": must be a list',
    ]);
    expect(problemsWith({ stateDirectory: '' })).toEqual(['stateDirectory "": must not be empty']);
    expect(problemsWith({ enroll: null })).toEqual([
      'enroll null: must be a mapping of settings (key: value)',
    ]);
    expect(configProblems([])).toEqual(['configuration []: must be a mapping of settings (key: value)']);
  });

  it('reports cross-field rules on the key they name', () => {
    expect(
      problemsWith({
        enroll: { thingGroupName: 'a', thingGroupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/a' },
      }),
    ).toEqual([
      'enroll.thingGroupArn "arn:aws:iot:us-east-1:123456789012:thinggroup/a": set thingGroupName or thingGroupArn, not both',
    ]);
  });

  it('adds where a bad value came from when the origins are known', () => {
    const { value, origins } = mergeConfigSourcesWithOrigins(
      {
        file: { ...valid, logLevel: 'loud' },
        env: { jobId: 'x y' },
        flags: { enroll: { retry: { maxAttempts: 0 } } },
      },
      { file: 'config file /etc/ggjobs.yaml', env: 'env GGJOBS_JOB_ID', flags: 'flag --max-attempts' },
    );
    expect(configProblems(value, origins)).toEqual([
      'jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-] (from env GGJOBS_JOB_ID)',
      'logLevel "loud": must be one of fatal, error, warn, info, debug, trace, silent (from config file /etc/ggjobs.yaml)',
      'enroll.retry.maxAttempts 0: must be a whole number from 1 to 100 (from flag --max-attempts)',
    ]);
  });
});
