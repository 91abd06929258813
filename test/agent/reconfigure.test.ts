// The pure decisions of live reconfiguration: what the component configuration contributes, which
// keys changed, and whether applying a new configuration restarts the agent and enrolls again.
import { describe, expect, it } from 'vitest';
import { type Config, configSchema } from '../../src/config/schema.js';
import {
  agentConfigurationFromComponent,
  changedKeys,
  enrollFingerprint,
  oneLine,
  planReconfiguration,
} from '../../src/supervisor/reconfigure.js';

function config(patch: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    thingName: 'core-1',
    region: 'us-east-1',
    jobId: 'job-a',
    namespaceId: 'ops',
    transport: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
    enroll: { thingGroupName: 'site-a' },
    ...patch,
  });
}

describe('agentConfigurationFromComponent', () => {
  it("drops the nucleus's accessControl and keeps every other key (unknown ones too, for the schema to refuse)", () => {
    const component = { jobId: 'job-a', accessControl: { 'aws.greengrass.ipc.mqttproxy': {} }, typo: 'x' };
    expect(agentConfigurationFromComponent(component)).toEqual({ jobId: 'job-a', typo: 'x' });
    expect(component).toHaveProperty('accessControl'); // the input is not modified
  });
});

describe('changedKeys', () => {
  it('lists the dotted paths of the leaves that differ, sorted', () => {
    const before = config();
    const after = config({ jobId: 'job-b', listen: { notifyTopics: { thing: false } }, logLevel: 'debug' });
    expect(changedKeys(before, after)).toEqual(['jobId', 'listen.notifyTopics.thing', 'logLevel']);
  });

  it('treats a replaced list as one change and an added key as a change', () => {
    expect(changedKeys({ a: [1, 2] }, { a: [1, 3] })).toEqual(['a']);
    expect(changedKeys({ a: {} }, { a: { b: 1 } })).toEqual(['a.b']);
    expect(changedKeys(config(), config())).toEqual([]);
  });
});

describe('enrollFingerprint', () => {
  it('ignores key order and keys enroll does not use', () => {
    const a = config({ listen: { pollIntervalSeconds: 60 } });
    const b = configSchema.parse(JSON.parse(JSON.stringify(config())));
    expect(enrollFingerprint(a)).toBe(enrollFingerprint(b));
  });

  it.each([
    ['jobId', { jobId: 'job-b' }],
    ['namespaceId', { namespaceId: 'ops-2' }],
    ['thingName', { thingName: 'core-2' }],
    ['region', { region: 'eu-west-1' }],
    ['enroll.thingGroupName', { enroll: { thingGroupName: 'site-b' } }],
    ['enroll.retry', { enroll: { thingGroupName: 'site-a', retry: { maxAttempts: 2 } } }],
  ])('changes with %s', (_name, patch) => {
    expect(enrollFingerprint(config(patch))).not.toBe(enrollFingerprint(config()));
  });
});

describe('planReconfiguration', () => {
  const enrolled = enrollFingerprint(config());

  it('does nothing when the effective configuration is the same', () => {
    expect(planReconfiguration(config(), config(), enrolled)).toEqual({ action: 'none' });
  });

  it('sets only the log level when nothing else changed', () => {
    expect(planReconfiguration(config(), config({ logLevel: 'debug' }), enrolled)).toEqual({
      action: 'log-level',
      changed: ['logLevel'],
    });
  });

  it('restarts without enrolling when only listen/executor/transport keys changed', () => {
    const next = config({
      listen: { shutdownGraceSeconds: 5 },
      transport: { kind: 'mqtt', url: 'mqtt://h:1' },
    });
    expect(planReconfiguration(config(), next, enrolled)).toEqual({
      action: 'restart',
      changed: ['listen.shutdownGraceSeconds', 'transport.url'],
      enroll: false,
    });
  });

  it('restarts and enrolls when the job changed, or when no enrollment succeeded yet', () => {
    expect(planReconfiguration(config(), config({ jobId: 'job-b' }), enrolled)).toMatchObject({
      action: 'restart',
      enroll: true,
    });
    expect(
      planReconfiguration(config(), config({ listen: { pollIntervalSeconds: 5 } }), undefined),
    ).toMatchObject({
      action: 'restart',
      enroll: true,
    });
  });

  it('never enrolls when enroll.enabled is false', () => {
    const off = { enroll: { enabled: false } };
    expect(planReconfiguration(config(off), config({ ...off, jobId: 'job-b' }), undefined)).toMatchObject({
      action: 'restart',
      enroll: false,
    });
  });

  it('starts (enrolling as needed) when no agent runs', () => {
    expect(planReconfiguration(undefined, config(), undefined)).toEqual({
      action: 'restart',
      changed: [],
      enroll: true,
    });
    expect(planReconfiguration(undefined, config(), enrolled)).toEqual({
      action: 'restart',
      changed: [],
      enroll: false,
    });
  });
});

describe('oneLine', () => {
  it('joins the one-problem-per-line config error text into one log line', () => {
    expect(oneLine('jobId "x y": must be ...\nlisten.requestTimeoutMs "soon": must be ...\n')).toBe(
      'jobId "x y": must be ...; listen.requestTimeoutMs "soon": must be ...',
    );
  });
});
