import { describe, expect, it } from 'vitest';
import { mergeConfigSources, mergeConfigSourcesWithOrigins } from '../../src/config/merge.js';

describe('mergeConfigSources precedence', () => {
  const layers = ['defaults', 'greengrass', 'file', 'env', 'flags'] as const;

  for (let i = 1; i < layers.length; i++) {
    const later = layers[i]!;
    const earlier = layers[i - 1]!;
    it(`${later} beats ${earlier}`, () => {
      const merged = mergeConfigSources({ [earlier]: { jobId: earlier }, [later]: { jobId: later } });
      expect(merged).toEqual({ jobId: later });
    });
  }

  it('flags beat every other source at once', () => {
    const sources = Object.fromEntries(layers.map((l) => [l, { jobId: l, enroll: { comment: l } }]));
    expect(mergeConfigSources(sources)).toEqual({ jobId: 'flags', enroll: { comment: 'flags' } });
  });

  it('merges objects key by key and keeps keys only an earlier source sets', () => {
    const merged = mergeConfigSources({
      greengrass: { enroll: { retry: { maxAttempts: 3, baseDelayMs: 10 } }, region: 'eu-west-1' },
      file: { enroll: { retry: { maxAttempts: 5 } } },
    });
    expect(merged).toEqual({ enroll: { retry: { maxAttempts: 5, baseDelayMs: 10 } }, region: 'eu-west-1' });
  });

  it('replaces arrays whole', () => {
    const merged = mergeConfigSources({
      file: { executor: { allowedCommands: ['a', 'b', 'c'] } },
      flags: { executor: { allowedCommands: ['z'] } },
    });
    expect(merged).toEqual({ executor: { allowedCommands: ['z'] } });
  });

  it('ignores undefined values (a flag that was not given)', () => {
    const merged = mergeConfigSources({
      file: { jobId: 'from-file' },
      flags: { jobId: undefined, enroll: {} },
    });
    expect(merged).toEqual({ jobId: 'from-file', enroll: {} });
  });

  it('replaces an object whose kind differs instead of mixing the two', () => {
    const merged = mergeConfigSources({
      file: { transport: { kind: 'iot-core', endpoint: 'x-ats.iot', certFile: 'c', keyFile: 'k' } },
      env: { transport: { kind: 'mqtt', url: 'mqtt://h:1883' } },
    });
    expect(merged).toEqual({ transport: { kind: 'mqtt', url: 'mqtt://h:1883' } });
  });

  it('merges an object of the same kind', () => {
    const merged = mergeConfigSources({
      file: { transport: { kind: 'mqtt', url: 'mqtt://a', username: 'u' } },
      env: { transport: { kind: 'mqtt', url: 'mqtt://b' } },
    });
    expect(merged).toEqual({ transport: { kind: 'mqtt', url: 'mqtt://b', username: 'u' } });
  });

  it('naming the thing group one way in a later source drops the other way', () => {
    const arn = 'arn:aws:iot:us-east-1:123456789012:thinggroup/a';
    expect(
      mergeConfigSources({
        file: { enroll: { thingGroupArn: arn } },
        env: { enroll: { thingGroupName: 'b' } },
      }),
    ).toEqual({ enroll: { thingGroupName: 'b' } });
    expect(
      mergeConfigSources({
        file: { enroll: { thingGroupName: 'b' } },
        flags: { enroll: { thingGroupArn: arn } },
      }),
    ).toEqual({ enroll: { thingGroupArn: arn } });
  });

  it('does not modify its inputs and drops __proto__ keys', () => {
    const file = JSON.parse('{"enroll":{"retry":{"maxAttempts":2}},"__proto__":{"polluted":true}}');
    const flags = { enroll: { retry: { maxAttempts: 9 } } };
    const merged = mergeConfigSources({ file, flags }) as Record<string, unknown>;
    expect(file.enroll.retry.maxAttempts).toBe(2);
    expect(merged).toEqual({ enroll: { retry: { maxAttempts: 9 } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('skips sources that are not objects', () => {
    expect(mergeConfigSources({ greengrass: 'nonsense', file: null, flags: { jobId: 'j' } })).toEqual({
      jobId: 'j',
    });
  });
});

describe('mergeConfigSourcesWithOrigins', () => {
  it('records which source set each key', () => {
    const { origins } = mergeConfigSourcesWithOrigins(
      { file: { jobId: 'a', enroll: { retry: { maxAttempts: 2 } } }, env: { jobId: 'b' } },
      {
        file: 'config file /etc/ggjobs.yaml',
        env: (path) => (path === 'jobId' ? 'env GGJOBS_JOB_ID' : undefined),
      },
    );
    expect(origins.get('jobId')).toBe('env GGJOBS_JOB_ID');
    expect(origins.get('enroll.retry.maxAttempts')).toBe('config file /etc/ggjobs.yaml');
  });

  it('forgets the origins of keys a replaced object had', () => {
    const { origins } = mergeConfigSourcesWithOrigins({
      file: { transport: { kind: 'iot-core', endpoint: 'e' } },
      env: { transport: { kind: 'mqtt', url: 'mqtt://x' } },
    });
    expect(origins.get('transport.endpoint')).toBeUndefined();
    expect(origins.get('transport.url')).toBe('environment');
  });
});
