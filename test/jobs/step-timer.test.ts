// The pure parts of step timers and heartbeats: the stepTimeoutInMinutes the agent asks for, how
// heartbeat details merge with what the execution already carries, and `::progress` line scanning.
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_KEYS, mergeDetails } from '../../src/jobs/heartbeats.js';
import { stepPlan, stepTimeoutMinutes } from '../../src/jobs/step-timer.js';
import { MAX_LINE_CHARS, ProgressLineScanner } from '../../src/run/progress-lines.js';

describe('stepTimeoutMinutes', () => {
  it('adds the margin and the kill grace, rounds up and stays within 1..10080', () => {
    expect(stepTimeoutMinutes(30, 1)).toBe(2); // 30 + 60 + 1 = 91 s
    expect(stepTimeoutMinutes(3600, 10)).toBe(62); // 3670 s
    expect(stepTimeoutMinutes(0, 0)).toBe(1);
    expect(stepTimeoutMinutes(-500, 0)).toBe(1); // a step already past its own timeout
    expect(stepTimeoutMinutes(7 * 86_400, 600)).toBe(10_080);
  });

  it('reads each step timeout from the document, with the executor default', () => {
    const plan = stepPlan(
      {
        version: '1.0',
        steps: [
          { action: { name: 'a', type: 'runHandler', input: { handler: 'x.sh' }, timeoutSeconds: 5 } },
          { action: { name: 'b', type: 'runHandler', input: { handler: 'y.sh' } } },
        ],
      },
      900,
    );
    expect(plan).toEqual({ count: 2, names: ['a', 'b'], timeoutSeconds: [5, 900] });
    expect(stepPlan({ nonsense: true }, 900)).toEqual({ count: 0, names: [], timeoutSeconds: [] });
  });
});

describe('heartbeat statusDetails', () => {
  it('keep the keys the execution already carries (e.g. the claim), ours first, at most 10', () => {
    const ours = { step: 's', stepIndex: '0', stepCount: '1', elapsedSeconds: '5', progress: 'p' };
    expect(mergeDetails({ claimId: 'abc', step: 'stale' }, ours)).toEqual({ ...ours, claimId: 'abc' });
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, 'v']));
    const merged = mergeDetails(many, ours);
    expect(Object.keys(merged)).toHaveLength(10);
    for (const key of Object.keys(ours)) expect(merged[key]).toBe(ours[key as keyof typeof ours]);
    expect(HEARTBEAT_KEYS).toEqual(['step', 'stepIndex', 'stepCount', 'elapsedSeconds', 'progress']);
  });
});

describe('ProgressLineScanner', () => {
  const scan = (...chunks: string[]) => {
    const seen: string[] = [];
    const scanner = new ProgressLineScanner((t) => seen.push(t));
    for (const c of chunks) scanner.push(Buffer.from(c));
    scanner.end();
    return seen;
  };

  it('passes on the text of ::progress lines only, across chunk boundaries and CRLF', () => {
    expect(scan('hello\n::prog', 'ress 10%\r\n::progress', ' 20%\nx ::progress no\n::progress last')).toEqual(
      ['10%', '20%', 'last'],
    );
    expect(scan('::progress \n::progress    \n::progressive\n')).toEqual([]);
  });

  it('bounds a line: an overlong line is cut, the next line is read normally', () => {
    const long = `::progress ${'x'.repeat(MAX_LINE_CHARS * 3)}\n::progress next\n`;
    const seen = scan(long.slice(0, 5000), long.slice(5000));
    expect(seen).toHaveLength(2);
    expect(seen[0]!.length).toBe(MAX_LINE_CHARS - '::progress '.length);
    expect(seen[1]).toBe('next');
  });

  it('decodes UTF-8 split across chunks', () => {
    const bytes = Buffer.from('::progress café ✓\n');
    const seen: string[] = [];
    const scanner = new ProgressLineScanner((t) => seen.push(t));
    for (const byte of bytes) scanner.push(Buffer.from([byte]));
    expect(seen).toEqual(['café ✓']);
  });
});
