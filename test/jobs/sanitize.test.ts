import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DETAIL_PAIRS, sanitizeStatusDetails } from '../../src/jobs/sanitize.js';

// The service's own checks, written independently of the implementation (jobs-protocol.md "Limits").
const VALID_KEY = /^[a-zA-Z0-9:_-]{1,128}$/;
const VALID_VALUE = /^[^\p{C}]{1,1024}$/u;

function accepted(details: Record<string, string>): boolean {
  const entries = Object.entries(details);
  return entries.length <= 10 && entries.every(([k, v]) => VALID_KEY.test(k) && VALID_VALUE.test(v));
}

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 1500 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', '\n', '\t\r\n', '\u0000', '\u200b', '\ud800', 'ok'),
);
const anyValue = fc.oneof(anyText, fc.integer(), fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }));
const anyDetails = fc.dictionary(anyText, anyValue, { maxKeys: 30 });

describe('sanitizeStatusDetails', () => {
  it('always returns details the service accepts', () => {
    fc.assert(
      fc.property(anyDetails, (details) => {
        expect(accepted(sanitizeStatusDetails(details))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(anyDetails, (details) => {
        const once = sanitizeStatusDetails(details);
        expect(sanitizeStatusDetails(once)).toEqual(once);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves valid details unchanged', () => {
    const validKey = fc.stringMatching(/^[a-zA-Z0-9:_-]{1,20}$/);
    const validValue = fc
      .stringMatching(/^[a-zA-Z0-9 .,;!?()=+-]{1,60}$/)
      .filter((v) => v.trim() === v && v !== '');
    fc.assert(
      fc.property(fc.dictionary(validKey, validValue, { maxKeys: MAX_DETAIL_PAIRS }), (details) => {
        expect(sanitizeStatusDetails(details)).toEqual(details);
      }),
    );
  });

  it('keeps the reason when there are too many pairs', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^k[0-9]{1,3}$/), fc.constant('v'), { minKeys: 11, maxKeys: 40 }),
        fc.stringMatching(/^[a-z]{1,30}$/),
        (extra, reason) => {
          const out = sanitizeStatusDetails({ ...extra, reason });
          expect(Object.keys(out)).toHaveLength(MAX_DETAIL_PAIRS);
          expect(out.reason).toBe(reason);
        },
      ),
    );
  });

  it('turns newlines and tabs into spaces, replaces bad key characters and cuts long values', () => {
    const out = sanitizeStatusDetails({
      reason: 'step failed',
      'stderr tail': 'line 1\nline 2\tend\u0000',
      'émoji🙂': 'x',
      huge: 'a'.repeat(5000),
      empty: '',
      blank: ' \n ',
    });
    expect(out).toEqual({
      reason: 'step failed',
      stderr_tail: 'line 1 line 2 end',
      _moji_: 'x',
      huge: `${'a'.repeat(1023)}…`,
    });
  });

  it('returns an empty object for nothing', () => {
    expect(sanitizeStatusDetails(undefined)).toEqual({});
    expect(sanitizeStatusDetails(null)).toEqual({});
  });
});
