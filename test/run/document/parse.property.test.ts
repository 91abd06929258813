// Network input must never crash the parser: whatever arrives ends as a plan or as REJECTED with a
// reason. Random JSON, random JavaScript values and mutations of valid documents are all tried.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinCommandLine, splitCommandLine } from '../../../src/run/document/command-line.js';
import { type ParsedJobDocument, parseJobDocument } from '../../../src/run/document/parse.js';
import { deviceClientDocuments, legacyDocuments, managedTemplateDocuments } from '../fixtures/documents.js';

const validDocuments = [
  ...Object.values(managedTemplateDocuments),
  ...Object.values(deviceClientDocuments),
  ...Object.values(legacyDocuments),
];

/** A result is either a usable plan or a non-empty, prefixed reason. */
function expectWellFormed(result: ParsedJobDocument): void {
  if (result.ok) {
    expect(result.plan.steps.length).toBeGreaterThan(0);
    result.plan.steps.forEach((s, i) => {
      expect(s.index).toBe(i);
      expect(s.name.length).toBeGreaterThan(0);
    });
  } else {
    expect(typeof result.reason).toBe('string');
    expect(result.reason.startsWith('invalid job document: ')).toBe(true);
    expect(result.reason.length).toBeGreaterThan('invalid job document: '.length);
  }
}

type Mutation = { path: number[]; kind: 'replace' | 'delete' | 'wrap'; value: unknown };

/** Walks `path` (each number picks a child modulo the child count) and changes what it reaches. */
function mutate(document: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(document);
  let parent: Record<string, unknown> | unknown[] | undefined;
  let key: string | number | undefined;
  let node: unknown = copy;
  for (const pick of mutation.path) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string, unknown>;
    key = keys[pick % keys.length]!;
    node = (parent as Record<string | number, unknown>)[key];
  }
  if (parent === undefined || key === undefined) return mutation.kind === 'delete' ? {} : mutation.value;
  const target = parent as Record<string | number, unknown>;
  if (mutation.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete target[key];
  } else if (mutation.kind === 'wrap') target[key] = [target[key]];
  else target[key] = mutation.value;
  return copy;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.nat(50), { maxLength: 6 }),
  kind: fc.constantFrom<Mutation['kind']>('replace', 'delete', 'wrap'),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      'true',
      'false',
      '1',
      '-1',
      '',
      'default',
      '../x',
      '/abs',
      'runCommand',
      'download',
      '\0',
    ),
  ),
});

describe('parseJobDocument never throws', () => {
  it('on random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectWellFormed(parseJobDocument(value));
      }),
      { numRuns: 500 },
    );
  });

  it('on random JSON text, including broken text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        expectWellFormed(parseJobDocument(text));
      }),
      { numRuns: 300 },
    );
  });

  it('on arbitrary JavaScript values (undefined, bigint, symbols, odd keys)', () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true }),
        (value) => {
          expectWellFormed(parseJobDocument(value));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on mutated valid documents', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validDocuments),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        (document, mutations) => {
          const mutated = mutations.reduce<unknown>((doc, m) => mutate(doc, m), document);
          expectWellFormed(parseJobDocument(mutated));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('accepts every fixture unmutated (the mutation test starts from valid input)', () => {
    for (const document of validDocuments) expect(parseJobDocument(document).ok).toBe(true);
  });
});

describe('splitCommandLine', () => {
  it('inverts joinCommandLine for arguments not ending in a backslash', () => {
    const arg = fc.string().filter((s) => !s.endsWith('\\'));
    fc.assert(
      fc.property(fc.array(arg, { minLength: 1, maxLength: 6 }), (argv) => {
        expect(splitCommandLine(joinCommandLine(argv))).toEqual(argv);
      }),
    );
  });
});
