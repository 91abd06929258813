// Property test of the whole attack surface a job document and the Jobs topics give: 10,000 random
// and mutated job documents through the runner the agent uses (parse, policy, preflight, steps), then
// random and mutated MQTT payloads on every topic the agent subscribes to and a batch of random
// documents as real executions, through a live `ggjobs start`. Properties: nothing throws or crashes;
// every outcome is SUCCEEDED, FAILED or REJECTED, with a non-empty reason when not SUCCEEDED; a
// malformed document is REJECTED; a well-formed one that refers to anything outside the allowlists is
// REJECTED; and nothing outside the allowlists ever runs (every forbidden target would create the
// canary file, which must never appear).
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import fc from 'fast-check';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsTopics, subscribedTopics } from '../../src/jobs/topics.js';
import { parseJobDocument } from '../../src/run/document/parse.js';
import type { JobPlan } from '../../src/run/document/schema.js';
import type { RunJob } from '../../src/run/types.js';
import { NAMESPACE, THING } from '../agent/helpers.js';
import { jobRunner, recordingContext } from '../run/helpers.js';
import { safeTempDir } from '../support/safe-dir.js';
import { type AttackBench, startAttackBench } from './harness.js';

export const IN_PROCESS_RUNS = 10_000;
export const MQTT_PAYLOADS = 2_100;
export const LIVE_DOCUMENTS = 20;

let root: string;
let allowed: string;
let forbidden: string;
let downloads: string;
let canary: string;
let run: RunJob;

beforeAll(async () => {
  root = await safeTempDir('fuzz-', 0o755);
  allowed = join(root, 'allowed');
  forbidden = join(root, 'forbidden');
  downloads = join(root, 'downloads');
  canary = join(root, 'CANARY');
  for (const dir of [allowed, forbidden]) {
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700);
  }
  await writeFile(join(allowed, 'ok.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o700 });
  // Everything outside the allowlist leaves the canary when it runs.
  for (const name of ['ok.sh', 'evil.sh', 'touch'])
    await writeFile(join(forbidden, name), `#!/bin/sh\ntouch '${canary}'\n`, { mode: 0o700 });
  run = jobRunner({
    handlerDirectory: allowed,
    handlerDirectories: [allowed],
    downloadDirectories: [downloads],
    defaultStepTimeoutSeconds: 5,
  });
});

// ---- generators -------------------------------------------------------------------------------

const paths = () =>
  fc.constantFrom(
    undefined,
    'default',
    '',
    allowed,
    `${allowed}/`,
    forbidden,
    `${allowed}/../forbidden`,
    '/usr/bin',
    '/bin',
    '/usr/bin/',
    '/sbin',
    '/tmp',
    '/',
    '/usr/%62in',
    'relative/dir',
    `${forbidden}\u0000`,
  );
const handlers = () =>
  fc.constantFrom(
    'ok.sh',
    'evil.sh',
    'touch',
    'missing.sh',
    '../forbidden/evil.sh',
    '/usr/bin/touch',
    `${forbidden}/evil.sh`,
    '..',
    '.',
    '..%2fforbidden%2fevil.sh',
    'ok.sh\u0000',
    '',
  );
const args = () => fc.array(fc.oneof(fc.constant(canary), fc.string({ maxLength: 12 })), { maxLength: 3 });
const urls = () =>
  fc.constantFrom(
    'file:///etc/shadow',
    `file://${canary}`,
    'http://127.0.0.1:9/x.bin',
    'ftp://127.0.0.1/x',
    'not a url',
    'https://user:pw@127.0.0.1:9/x?sig=1',
  );
const destinations = () =>
  fc.constantFrom(
    join(downloads, 'x.bin'),
    join(downloads, 'sub', 'y.bin'),
    canary,
    `${downloads}/../CANARY`,
    '/etc/ggjobs-fuzz',
    downloads,
    'relative.bin',
  );
const sha = fc.constantFrom('0'.repeat(64), 'A'.repeat(64), 'xyz', '');

type Mutation = { path: number[]; kind: 'replace' | 'delete' | 'wrap' | 'stringify'; value: unknown };

function mutate(document: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(document);
  if (mutation.kind === 'stringify' && mutation.path.length === 0) return JSON.stringify(copy);
  let parent: Record<string | number, unknown> | undefined;
  let key: string | number | undefined;
  let node: unknown = copy;
  for (const pick of mutation.path) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string | number, unknown>;
    key = keys[pick % keys.length]!;
    node = parent[key];
  }
  if (parent === undefined || key === undefined) return mutation.value;
  if (mutation.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (mutation.kind === 'wrap') parent[key] = [parent[key]];
  else if (mutation.kind === 'stringify') parent[key] = JSON.stringify(parent[key]) ?? '';
  else parent[key] = mutation.value;
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.nat(40), { maxLength: 6 }),
  kind: fc.constantFrom<Mutation['kind']>('replace', 'delete', 'wrap', 'stringify'),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom('/usr/bin', '..', '/tmp/CANARY', '\u0000', 'default', 'runCommand', 'download', 'true'),
  ),
});

/** Built after beforeAll, since the values name the test's directories. */
function documentArb() {
  const action = fc.oneof(
    fc.record(
      {
        name: fc.string({ minLength: 0, maxLength: 8 }),
        type: fc.constant('runHandler'),
        input: fc.record({ handler: handlers(), args: args(), path: paths() }, { requiredKeys: ['handler'] }),
        runAsUser: fc.constantFrom('', 'root', 'nobody', 'no-such-user', '-x'),
        ignoreStepFailure: fc.constantFrom(true, false, 'true', 'yes'),
        timeoutSeconds: fc.constantFrom(1, 5, 0, -1, 'x'),
      },
      { requiredKeys: ['name', 'type', 'input'] },
    ),
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 8 }),
      type: fc.constant('runCommand'),
      input: fc.record({
        command: fc.oneof(
          fc.constantFrom(`touch,${canary}`, `sh,-c,touch ${canary}`, `/usr/bin/touch,${canary}`, 'true', ''),
          fc.string({ maxLength: 20 }),
        ),
      }),
    }),
    fc.record(
      {
        name: fc.string({ minLength: 1, maxLength: 8 }),
        type: fc.constant('download'),
        input: fc.record({ url: urls(), sha256: sha, destination: destinations() }),
        ignoreStepFailure: fc.boolean(),
      },
      { requiredKeys: ['name', 'type', 'input'] },
    ),
  );

  const validish = fc.oneof(
    fc.record(
      {
        version: fc.constantFrom('1.0', '1', 1, '2.0'),
        includeStdOut: fc.constantFrom(true, 'false', 'maybe'),
        steps: fc.array(fc.record({ action }), { minLength: 0, maxLength: 3 }),
        finalStep: fc.record({ action }),
      },
      { requiredKeys: ['version', 'steps'] },
    ),
    fc.record({ operation: handlers(), path: paths(), args: args() }, { requiredKeys: ['operation'] }),
  );

  /** Documents inside the allowlists: the allowed handler, downloads that fail to connect. */
  const inside = fc.record({
    version: fc.constant('1.0'),
    steps: fc.array(
      fc.oneof(
        fc.record({
          action: fc.record({
            name: fc.string({ minLength: 1, maxLength: 8 }),
            type: fc.constant('runHandler'),
            input: fc.record({
              handler: fc.constant('ok.sh'),
              args: args(),
              path: fc.constantFrom('default', allowed),
            }),
          }),
        }),
        fc.record({
          action: fc.record({
            name: fc.string({ minLength: 1, maxLength: 8 }),
            type: fc.constant('download'),
            input: fc.record({
              url: fc.constant('http://127.0.0.1:9/x.bin'),
              sha256: fc.constant('0'.repeat(64)),
              destination: fc.constant(join(downloads, 'x.bin')),
            }),
          }),
        }),
      ),
      { minLength: 1, maxLength: 1 },
    ),
  });
  const documents = fc.oneof(
    // Documents that start processes or connections are the slow ones: about 1 in 30.
    { weight: 1, arbitrary: inside },
    { weight: 12, arbitrary: validish },
    {
      weight: 12,
      arbitrary: fc
        .tuple(validish, fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([d, ms]) => ms.reduce(mutate, d as unknown)),
    },
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 3, arbitrary: fc.string({ maxLength: 200 }) },
  );
  return documents;
}

// ---- the oracle ---------------------------------------------------------------------------------

const within = (p: string, dir: string) => {
  const rel = posix.relative(dir, posix.normalize(p));
  return rel !== '' && rel !== '..' && !rel.startsWith('../') && !posix.isAbsolute(rel);
};

/** Whether every step stays inside this device's allowlists (decided without the code under test). */
function insideAllowlists(plan: JobPlan): boolean {
  return plan.steps.every((step) => {
    const a = step.action;
    if (a.type === 'runCommand') return false; // executor.allowedCommands is empty
    if (a.type === 'download') return a.url.startsWith('http') && within(a.destination, downloads);
    const dir = a.directory === undefined ? allowed : posix.normalize(a.directory).replace(/\/$/, '');
    return dir === allowed && a.handler === 'ok.sh';
  });
}

// ---- properties --------------------------------------------------------------------------------

describe(`fuzz: ${IN_PROCESS_RUNS} documents through the runner the agent uses`, () => {
  it('never throws; malformed -> REJECTED with a reason; outside the allowlists -> REJECTED; nothing forbidden runs', async () => {
    let count = 0;
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(documentArb(), async (document) => {
        count++;
        const outcome = await run(document, recordingContext().context);
        expect(['SUCCEEDED', 'FAILED', 'REJECTED']).toContain(outcome.status);
        seen.set(outcome.status, (seen.get(outcome.status) ?? 0) + 1);
        if (outcome.status !== 'SUCCEEDED') {
          expect(typeof outcome.statusDetails.reason).toBe('string');
          expect(outcome.statusDetails.reason!.length).toBeGreaterThan(0);
        }
        const parsed = parseJobDocument(document);
        if (!parsed.ok) expect(outcome.status).toBe('REJECTED');
        else if (!insideAllowlists(parsed.plan)) expect(outcome.status).toBe('REJECTED');
        expect(existsSync(canary)).toBe(false);
      }),
      { numRuns: IN_PROCESS_RUNS },
    );
    expect(count).toBeGreaterThanOrEqual(IN_PROCESS_RUNS);
    // Not vacuous: documents that run, fail and are refused were all generated.
    for (const status of ['SUCCEEDED', 'FAILED', 'REJECTED'])
      expect(seen.get(status) ?? 0, JSON.stringify([...seen])).toBeGreaterThan(20);
    expect(existsSync(canary)).toBe(false);
  });
});

describe('fuzz: a live agent (ggjobs start, mqtt transport)', () => {
  let bench: AttackBench;
  beforeAll(async () => {
    bench = await startAttackBench();
  });
  afterAll(async () => {
    await bench?.close();
  });

  it(`survives ${MQTT_PAYLOADS} random and mutated payloads on every subscribed topic`, async () => {
    const ids = { thingName: THING, jobId: 'attack-0', namespaceId: NAMESPACE };
    const topics = subscribedTopics(ids, { perJob: true, thing: true, thingNext: true });
    expect(topics).toHaveLength(7);
    const t = jobsTopics(ids);
    const execution = { jobId: 'attack-0', status: 'QUEUED', executionNumber: 1, versionNumber: 1 };
    const samples: unknown[] = [
      { jobs: { QUEUED: [execution] }, timestamp: 1 },
      { execution: { ...execution, jobDocument: { version: '1.0', steps: [] } }, timestamp: 1 },
      { clientToken: 'x', executionState: { status: 'SUCCEEDED', versionNumber: 2 }, timestamp: 1 },
      { clientToken: 'x', code: 'VersionMismatch', message: 'no' },
    ];
    const payloads = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc
          .tuple(fc.constantFrom(...samples), fc.array(mutation, { minLength: 1, maxLength: 3 }))
          .map(([s, ms]) => JSON.stringify(ms.reduce(mutate, s)) ?? ''),
        fc.constantFrom(
          '',
          '{',
          'null',
          '[]',
          '{"execution":null}',
          '{"jobs":{"QUEUED":"x"}}',
          'x'.repeat(200_000),
        ),
      ),
      { numRuns: MQTT_PAYLOADS },
    );
    const client = await connectAsync(bench.js.stack.mqttUrl, { clientId: 'fuzzer', reconnectPeriod: 0 });
    try {
      let i = 0;
      for (const payload of payloads) {
        await client.publishAsync(topics[i++ % topics.length]!, payload as string | Buffer, { qos: 0 });
        if (i % 200 === 0) await client.publishAsync(t.updateAccepted, '{}', { qos: 1 }); // pace with the broker
      }
      expect(i).toBe(MQTT_PAYLOADS);
    } finally {
      await client.endAsync();
    }
    // Still alive and still working: a clean document after the flood runs normally.
    const outcome = await bench.deliver({
      version: '1.0',
      steps: [{ action: { name: 'After', type: 'runHandler', input: { handler: 'echo.sh', args: ['ok'] } } }],
    });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(bench.agent.child.exitCode).toBeNull();
    expect(bench.agent.logLines().filter((l) => Number(l.level) >= 60)).toEqual([]);
  });

  it(`runs ${LIVE_DOCUMENTS} random documents as executions: each ends with a status, nothing forbidden runs`, async () => {
    // The Jobs service only takes a JSON object as a job document (CreateJob refuses anything else).
    const isObject = (d: unknown) => typeof d === 'object' && d !== null && !Array.isArray(d);
    const sample = fc.sample(documentArb().filter(isObject), { numRuns: LIVE_DOCUMENTS, seed: 9 });
    for (const document of sample) {
      const outcome = await bench.deliver(document, { handlerDirectories: [bench.handlers] });
      expect(['SUCCEEDED', 'FAILED', 'REJECTED']).toContain(outcome.status);
      if (outcome.status !== 'SUCCEEDED') expect(outcome.reason.length).toBeGreaterThan(0);
      const parsed = parseJobDocument(document);
      if (!parsed.ok) expect(outcome.status).toBe('REJECTED');
      expect(existsSync(canary)).toBe(false);
    }
    expect(bench.agent.child.exitCode).toBeNull();
  });
});
