import { describe, expect, it } from 'vitest';
import { joinCommandLine, splitCommandLine } from '../../../src/run/document/command-line.js';
import { type ParsedJobDocument, parseJobDocument } from '../../../src/run/document/parse.js';
import type { JobPlan } from '../../../src/run/document/schema.js';
import { deviceClientDocuments, legacyDocuments, managedTemplateDocuments } from '../fixtures/documents.js';

function planOf(document: unknown): JobPlan {
  const parsed = parseJobDocument(document);
  if (!parsed.ok) throw new Error(`expected a plan, got: ${parsed.reason}`);
  return parsed.plan;
}

function reasonOf(document: unknown): string {
  const parsed: ParsedJobDocument = parseJobDocument(document);
  if (parsed.ok) throw new Error('expected a rejection');
  return parsed.reason;
}

function step(action: Record<string, unknown>) {
  return {
    version: '1.0',
    steps: [{ action: { name: 'S', type: 'runHandler', input: { handler: 'h.sh' }, ...action } }],
  };
}

describe('AWS managed template documents', () => {
  it.each(Object.entries(managedTemplateDocuments))('%s parses into its one step', (_name, document) => {
    const plan = planOf(document);
    expect(plan.steps).toHaveLength(1);
    expect(plan.legacy).toBe(false);
  });

  it('keeps the handler, arguments, user and directory of AWS-Download-File', () => {
    const [s] = planOf(managedTemplateDocuments['AWS-Download-File']).steps;
    expect(s).toMatchObject({
      index: 0,
      name: 'Download-File',
      isFinal: false,
      runAsUser: 'root',
      ignoreStepFailure: false,
      resumeAfterReboot: false,
      action: {
        type: 'runHandler',
        handler: 'download-file.sh',
        args: ['https://downloads.example.net/firmware/gw-2.4.1.bin', '/var/lib/gateway/gw-2.4.1.bin'],
        directory: undefined,
      },
    });
  });

  it('treats "default" and an empty path as the handler directory and keeps an absolute one', () => {
    const stop = planOf(managedTemplateDocuments['AWS-Stop-Application']).steps[0]!;
    const restart = planOf(managedTemplateDocuments['AWS-Restart-Application']).steps[0]!;
    expect(stop.action).toMatchObject({ type: 'runHandler', directory: undefined });
    expect(restart.action).toMatchObject({ type: 'runHandler', directory: '/opt/site-handlers' });
  });

  it('passes the space-separated package list through as one argument', () => {
    const [s] = planOf(managedTemplateDocuments['AWS-Install-Application']).steps;
    expect(s?.action).toMatchObject({ args: ['mosquitto-clients htop'] });
  });

  it('marks the AWS-Reboot step as resuming after the restart', () => {
    expect(planOf(managedTemplateDocuments['AWS-Reboot']).steps[0]?.resumeAfterReboot).toBe(true);
  });

  it('splits the AWS-Run-Command line on commas, honouring \\,', () => {
    const [s] = planOf(managedTemplateDocuments['AWS-Run-Command']).steps;
    expect(s?.action).toEqual({
      type: 'runCommand',
      argv: ['logger', '-t', 'maintenance', 'window opened, 22:00 UTC'],
    });
  });

  it('keeps an empty runAsUser (the agent runs the step as itself)', () => {
    expect(planOf(managedTemplateDocuments['AWS-Start-Application']).steps[0]?.runAsUser).toBe('');
  });
});

describe('Device Client documents', () => {
  it.each(Object.entries(deviceClientDocuments))('%s parses', (_name, document) => {
    expect(planOf(document).steps.length).toBeGreaterThan(0);
  });

  it('flattens steps and finalStep, with string booleans and conditions', () => {
    const plan = planOf(deviceClientDocuments['install, download, then clean up in finalStep']);
    expect(plan.includeStdOut).toBe(true);
    expect(plan.conditions).toEqual([
      { key: 'operatingSystem', values: ['debian', 'ubuntu'], type: 'stringEqual' },
    ]);
    expect(plan.steps.map((s) => [s.index, s.name, s.isFinal, s.ignoreStepFailure, s.allowStdErr])).toEqual([
      [0, 'Install-Packages', false, true, 4],
      [1, 'Fetch-Config', false, false, undefined],
      [2, 'Remove-Packages', true, false, undefined],
    ]);
  });

  it('ignores unknown keys such as _comment', () => {
    expect(planOf(deviceClientDocuments['echo with no path']).steps[0]?.name).toBe('Greet');
  });
});

describe('legacy documents', () => {
  it('turns operation/args/path/allowStdErr/includeStdOut into one runHandler step', () => {
    const plan = planOf(legacyDocuments['install with string includeStdOut']);
    expect(plan.legacy).toBe(true);
    expect(plan.includeStdOut).toBe(true);
    expect(plan.steps).toEqual([
      {
        index: 0,
        isFinal: false,
        name: 'install-packages.sh',
        action: {
          type: 'runHandler',
          handler: 'install-packages.sh',
          args: ['lsof', 'tcpdump'],
          directory: undefined,
        },
        runAsUser: '',
        allowStdErr: 2,
        ignoreStepFailure: false,
        resumeAfterReboot: false,
      },
    ]);
  });

  it('accepts a bare operation and a numeric-string allowStdErr', () => {
    expect(planOf(legacyDocuments['bare operation']).steps[0]?.action).toMatchObject({
      handler: 'echo.sh',
      args: [],
    });
    expect(planOf(legacyDocuments['allowStdErr as a numeric string']).steps[0]?.allowStdErr).toBe(3);
  });

  it('rejects a legacy document with a bad field, naming it', () => {
    expect(reasonOf({ operation: 'x.sh', args: 'not-a-list' })).toBe(
      'invalid job document: args: must be an array of strings',
    );
  });
});

describe('booleans and numbers as strings or JSON values', () => {
  it.each([
    [true, true],
    ['true', true],
    ['TRUE', true],
    [false, false],
    ['false', false],
  ])('ignoreStepFailure %j -> %j', (value, expected) => {
    expect(planOf(step({ ignoreStepFailure: value })).steps[0]?.ignoreStepFailure).toBe(expected);
  });

  it.each([
    [true, true],
    ['true', true],
    ['false', false],
    [undefined, false],
  ])('includeStdOut %j -> %j', (value, expected) => {
    expect(planOf({ ...step({}), includeStdOut: value }).includeStdOut).toBe(expected);
  });

  it('reads allowStdErr from an integer or a numeric string', () => {
    expect(planOf(step({ allowStdErr: 0 })).steps[0]?.allowStdErr).toBe(0);
    expect(planOf(step({ allowStdErr: '5' })).steps[0]?.allowStdErr).toBe(5);
  });

  it('rejects other values with the field path', () => {
    expect(reasonOf(step({ ignoreStepFailure: 'yes' }))).toBe(
      'invalid job document: steps[0].action.ignoreStepFailure: must be true or false',
    );
    expect(reasonOf(step({ allowStdErr: 1.5 }))).toContain(
      'steps[0].action.allowStdErr: must be a whole number',
    );
    expect(reasonOf(step({ allowStdErr: -1 }))).toContain(
      'steps[0].action.allowStdErr: must be a whole number',
    );
  });
});

describe('ggjobs additions', () => {
  it('reads timeoutSeconds and resumeAfterReboot', () => {
    const [s] = planOf(step({ timeoutSeconds: '90', resumeAfterReboot: 'true' })).steps;
    expect(s).toMatchObject({ timeoutSeconds: 90, resumeAfterReboot: true });
  });

  it('lets a reboot.sh step opt out of resuming', () => {
    const doc = step({ input: { handler: 'reboot.sh' }, resumeAfterReboot: false });
    expect(planOf(doc).steps[0]?.resumeAfterReboot).toBe(false);
  });

  it('parses a download step and lower-cases its digest', () => {
    const [s] = planOf(
      step({
        type: 'download',
        input: {
          url: 'https://cdn.example.com/a.tgz?X-Amz-Signature=abc',
          sha256: 'AB'.repeat(32),
          destination: '/opt/a.tgz',
        },
      }),
    ).steps;
    expect(s?.action).toEqual({
      type: 'download',
      url: 'https://cdn.example.com/a.tgz?X-Amz-Signature=abc',
      sha256: 'ab'.repeat(32),
      destination: '/opt/a.tgz',
    });
  });

  it('rejects bad download inputs field by field', () => {
    const reason = reasonOf(
      step({ type: 'download', input: { url: 'ftp://x/y', sha256: '12', destination: 'relative/file' } }),
    );
    expect(reason).toContain('steps[0].action.input.url: must be an http:, https: or file: URL');
    expect(reason).toContain('steps[0].action.input.sha256: must be 64 hexadecimal characters');
    expect(reason).toContain('steps[0].action.input.destination: must be an absolute file path');
  });

  it('rejects timeoutSeconds outside 1..604800', () => {
    expect(reasonOf(step({ timeoutSeconds: 0 }))).toContain(
      'steps[0].action.timeoutSeconds: must be a whole number',
    );
  });
});

describe('rejections name the field and the problem', () => {
  it.each<[string, unknown, string]>([
    ['a missing handler', step({ input: {} }), 'steps[0].action.input.handler: required'],
    [
      'a missing handler in the second step',
      {
        version: '1.0',
        steps: [
          { action: { name: 'a', type: 'runHandler', input: { handler: 'a.sh' } } },
          { action: { name: 'b', type: 'runHandler', input: { args: [] } } },
        ],
      },
      'steps[1].action.input.handler: required',
    ],
    [
      'an unknown type',
      step({ type: 'runScript' }),
      'steps[0].action.type: must be one of runHandler, runCommand, download',
    ],
    [
      'a non-string argument',
      step({ input: { handler: 'h.sh', args: ['ok', 7] } }),
      'steps[0].action.input.args[1]: must be a string',
    ],
    [
      'args that are not a list',
      step({ input: { handler: 'h.sh', args: 'a b' } }),
      'steps[0].action.input.args: must be an array of strings',
    ],
    ['a missing input', step({ input: undefined }), 'steps[0].action.input: required'],
    [
      'a relative path',
      step({ input: { handler: 'h.sh', path: 'handlers' } }),
      'steps[0].action.input.path: must be "default" or an absolute directory path',
    ],
    ['an empty step name', step({ name: '' }), 'steps[0].action.name: must not be empty'],
    [
      'a user name starting with "-"',
      step({ runAsUser: '-u' }),
      'steps[0].action.runAsUser: must be a user name',
    ],
    [
      'a NUL in an argument',
      step({ input: { handler: 'h.sh', args: ['a\0b'] } }),
      'steps[0].action.input.args[0]: must not contain NUL characters',
    ],
    ['an empty steps list', { version: '1.0', steps: [] }, 'steps: must contain at least one step'],
    ['a step without action', { version: '1.0', steps: [{}] }, 'steps[0].action: required'],
    ['a wrong version', { ...step({}), version: '2.0' }, 'version: must be "1.0"'],
    ['no version and no operation', { steps: undefined }, 'version: required'],
    [
      'a finalStep with a bad type',
      { ...step({}), finalStep: { action: { name: 'f', type: 'x', input: {} } } },
      'finalStep.action.type: must be one of',
    ],
    [
      'a command with spaces in the executable',
      step({ type: 'runCommand', input: { command: 'rm -rf,/' } }),
      'steps[0].action.input.command: the executable (before the first comma) must not contain spaces',
    ],
    [
      'a command starting with a comma',
      step({ type: 'runCommand', input: { command: ',x' } }),
      'steps[0].action.input.command: must start with an executable',
    ],
    [
      'an empty condition value',
      { ...step({}), conditions: [{ key: 'k', value: [] }] },
      'conditions[0].value: must not be empty',
    ],
  ])('%s', (_what, document, expected) => {
    const reason = reasonOf(document);
    expect(reason.startsWith('invalid job document: ')).toBe(true);
    expect(reason).toContain(expected);
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'must be a JSON object, not null'],
    ['an array', [1, 2], 'must be a JSON object, not an array'],
    ['a number', 42, 'must be a JSON object, not a number'],
    ['truncated JSON text', '{"version": ', 'is not valid JSON'],
    ['a BigInt inside', { a: 1n }, 'is not JSON data'],
  ])('rejects %s as a whole', (_what, document, expected) => {
    expect(reasonOf(document)).toBe(`invalid job document: ${expected}`);
  });

  it('accepts the document as JSON text too', () => {
    expect(planOf(JSON.stringify(managedTemplateDocuments['AWS-Reboot'])).steps[0]?.name).toBe('Reboot');
  });

  it('rejects documents over 32768 bytes, as an object or as text', () => {
    const big = step({ input: { handler: 'h.sh', args: ['x'.repeat(33_000)] } });
    expect(reasonOf(big)).toMatch(/^invalid job document: is \d+ bytes; the limit is 32768 bytes$/);
    expect(reasonOf(JSON.stringify(big))).toMatch(/the limit is 32768 bytes/);
  });

  it('lists at most three problems and counts the rest', () => {
    const steps = Array.from({ length: 5 }, () => ({ action: { name: 'x', type: 'runHandler', input: {} } }));
    const reason = reasonOf({ version: '1.0', steps });
    expect(reason.match(/: required/g)).toHaveLength(3);
    expect(reason).toContain('and 2 more problems');
  });
});

describe('splitCommandLine', () => {
  it.each<[string, string[]]>([
    ['mkdir,newDir', ['mkdir', 'newDir']],
    ['echo,a\\,b,c', ['echo', 'a,b', 'c']],
    ['ls', ['ls']],
    ['printf,%s\\n,', ['printf', '%s\\n', '']],
    ['grep,-E,a\\\\d', ['grep', '-E', 'a\\\\d']],
  ])('%j -> %j', (line, argv) => {
    expect(splitCommandLine(line)).toEqual(argv);
    if (!argv.some((a) => a.endsWith('\\'))) expect(splitCommandLine(joinCommandLine(argv))).toEqual(argv);
  });
});
