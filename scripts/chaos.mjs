#!/usr/bin/env node
// The chaos suite: N executions of one continuous, namespaced job for one thing, run by real
// `ggjobs start` processes against the embedded local stack, while the script misbehaves the way
// devices do: the agent is SIGKILLed and SIGTERMed at random points (in resumable and non-resumable
// steps), the broker is stopped and started again on the same port, the agent is frozen once
// (SIGSTOP, 3 s), a second agent for the same thing (own state directory and client id) runs for the
// middle half of the run, notifications are duplicated on random forms and each agent start listens
// on a random subset of the notify forms. Bounded: every wait has a deadline.
//
// It prints the seed and, at the end: lost (never terminal), run twice (a step of an execution that
// ran more than once, from the handlers' own record on disk), succeeded, failed-interrupted, and
// refused (final statuses the service refused and does not hold). Goal: 0 lost, 0 run twice, 0 refused.
//
//   npm run chaos                       # 100 executions, random seed
//   npm run chaos -- --seed 12345       # replay a run
//   npm run chaos -- --executions 20    # a shorter run
//
// Uses the compiled dist/ (`npm run chaos` builds first).
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobExecutionCommand,
} from '@aws-sdk/client-iot';
import mqtt from 'mqtt';
import { localIotClient, trustedBase } from '../bench/lib.mjs';
import { startLocalStack } from '../dist/local/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const THING = 'chaos-core';
const JOB = 'chaos-job';
const NAMESPACE = 'chaos';
const EXECUTION_DEADLINE_MS = 120_000;

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string' },
    executions: { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
  },
});
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
const total = Number(args.executions);
if (!Number.isInteger(seed) || seed < 0) throw new Error('--seed must be a whole number');
if (!Number.isInteger(total) || total < 1 || total > 10_000) throw new Error('--executions must be 1..10000');

/** mulberry32: a small seeded PRNG, so that a seed replays the same decisions. */
function prng(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(seed);
const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const chance = (p) => random() < p;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

console.log(
  `chaos: seed ${seed}, ${total} executions (replay: npm run chaos -- --seed ${seed} --executions ${total})`,
);

// Under a base the executor trusts: a handler directory below /tmp would be refused.
const work = mkdtempSync(join(await trustedBase(), 'ggjobs-chaos-'));
const runsFile = join(work, 'runs.txt');
const handlers = join(work, 'handlers');
mkdirSync(handlers, { mode: 0o700 });
chmodSync(handlers, 0o700);
// Each step records "<step> <executionNumber>" before it works, so a step that ran twice shows twice.
writeFileSync(
  join(handlers, 'chaos-step.sh'),
  '#!/bin/sh\necho "$2 $GGJOBS_EXECUTION_NUMBER" >> "$RUNS_FILE"\nsleep "$3"\n',
  { mode: 0o700 },
);
const DOCUMENT = {
  version: '1.0',
  steps: [
    {
      action: {
        name: 'prepare',
        type: 'runHandler',
        input: { handler: 'chaos-step.sh', args: ['prepare', '0.3'] },
      },
    },
    {
      action: {
        name: 'reboot',
        type: 'runHandler',
        input: { handler: 'chaos-step.sh', args: ['reboot', '0.5'] },
        resumeAfterReboot: true,
      },
    },
    {
      action: {
        name: 'finish',
        type: 'runHandler',
        input: { handler: 'chaos-step.sh', args: ['finish', '0.2'] },
      },
    },
  ],
};

const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, notifyTopics: 'both' });
const iot = localIotClient(stack, { maxAttempts: 3 });
await iot.send(new CreateThingCommand({ thingName: THING }));
const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: 'chaos-group' }));
await iot.send(new AddThingToThingGroupCommand({ thingName: THING, thingGroupName: 'chaos-group' }));

// --- observing the Jobs traffic: update requests and their rejections --------------------------------
const topicBase = `$aws/things/${THING}/jobs/${JOB}/namespace-${NAMESPACE}`;
const requests = new Map(); // clientToken -> { status, executionNumber }
const rejections = []; // { clientToken, code }
const observer = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'chaos-observer', reconnectPeriod: 300 });
const observe = () =>
  observer
    .subscribeAsync([`${topicBase}/update`, `${topicBase}/update/rejected`], { qos: 1 })
    .catch(() => undefined);
observer.on('connect', observe);
observer.on('message', (topic, payload) => {
  let body;
  try {
    body = JSON.parse(payload.toString());
  } catch {
    return;
  }
  if (topic.endsWith('/update')) requests.set(body.clientToken, body);
  else rejections.push({ clientToken: body.clientToken, code: body.code });
});
await observe();

// --- agents --------------------------------------------------------------------------------------
function randomNotifyForms() {
  const forms = { perJob: chance(0.6), thing: chance(0.6), thingNext: chance(0.6) };
  if (!forms.perJob && !forms.thing && !forms.thingNext)
    forms[['perJob', 'thing', 'thingNext'][between(0, 2)]] = true;
  return Object.fromEntries(Object.entries(forms).map(([k, v]) => [k, String(v)]));
}

class Agent {
  constructor(name) {
    this.name = name;
    this.stateDirectory = join(work, `state-${name}`);
    this.logFile = join(work, `agent-${name}.log`);
    this.proc = undefined;
    this.starts = 0;
  }

  get alive() {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  start() {
    const config = {
      thingName: THING,
      region: stack.region,
      jobId: JOB,
      namespaceId: NAMESPACE,
      stateDirectory: this.stateDirectory,
      logLevel: 'info',
      enroll: { enabled: false },
      transport: { kind: 'mqtt', url: stack.mqttUrl, clientId: `${THING}-${this.name}` },
      listen: {
        notifyTopics: randomNotifyForms(),
        requestTimeoutMs: '3000',
        outboxRetryMinMs: '200',
        outboxRetryMaxMs: '2000',
        shutdownGraceSeconds: '2',
      },
      executor: { handlerDirectory: handlers, killGraceSeconds: '1', environment: { RUNS_FILE: runsFile } },
    };
    const file = join(work, `config-${this.name}.json`);
    writeFileSync(file, JSON.stringify(config));
    const proc = spawn(process.execPath, [join(ROOT, 'bin/ggjobs.js'), 'start', '--config', file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: work, NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = (chunk) => appendFileSync(this.logFile, chunk);
    proc.stdout.on('data', log);
    proc.stderr.on('data', log);
    this.exited = new Promise((resolve) => proc.once('exit', resolve));
    this.proc = proc;
    this.starts += 1;
  }

  /** Sends `signal` and waits (bounded) for the exit; SIGKILL when it does not come. */
  async stop(signal) {
    if (!this.alive) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

const main = new Agent('a');
const second = new Agent('b');
main.start();

// --- chaos events ----------------------------------------------------------------------------------
const counts = { sigkill: 0, sigterm: 0, brokerBounce: 0, sigstop: 0, duplicates: 0, secondAgentRuns: 0 };
let pending = Promise.resolve();
/** Events run one at a time, in order (a broker bounce and a kill may overlap in time otherwise). */
const schedule = (delayMs, event) => {
  pending = pending.then(() => sleep(delayMs)).then(event);
};

async function restartMain(signal) {
  counts[signal === 'SIGKILL' ? 'sigkill' : 'sigterm'] += 1;
  await main.stop(signal);
  await sleep(between(100, 1500));
  main.start();
}

async function bounceBroker() {
  counts.brokerBounce += 1;
  await stack.stopBroker();
  await sleep(between(300, 2000));
  await stack.startBroker();
}

async function freezeMain() {
  if (!main.alive) return;
  counts.sigstop += 1;
  main.proc.kill('SIGSTOP');
  await sleep(3_000);
  main.proc.kill('SIGCONT');
}

const announcer = await mqtt.connectAsync(stack.mqttUrl, {
  clientId: 'chaos-announcer',
  reconnectPeriod: 300,
});
async function announceAgain(executionNumber) {
  const thing = `$aws/things/${THING}/jobs`;
  const summary = { jobId: JOB, executionNumber, versionNumber: 1 };
  const forms = [
    [`${thing}/${JOB}/notify-namespace-${NAMESPACE}/`, summary],
    [`${thing}/notify-namespace-${NAMESPACE}`, { jobs: { QUEUED: [summary] } }],
    [`${thing}/notify-next-namespace-${NAMESPACE}`, { execution: summary }],
  ];
  for (let i = between(1, 3); i > 0; i--) {
    const [topic, body] = forms[between(0, 2)];
    await announcer.publishAsync(topic, JSON.stringify(body), { qos: 0 }).catch(() => undefined);
    counts.duplicates += 1;
  }
}

// --- the run -----------------------------------------------------------------------------------------
async function latestStatus(executionNumber) {
  try {
    const res = await iot.send(
      new DescribeJobExecutionCommand({ jobId: JOB, thingName: THING, executionNumber }),
    );
    return res.execution;
  } catch (err) {
    if (err.name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'REMOVED', 'CANCELED']);

async function waitTerminal(executionNumber) {
  const deadline = Date.now() + EXECUTION_DEADLINE_MS;
  while (Date.now() < deadline) {
    const e = await latestStatus(executionNumber);
    if (e && TERMINAL.has(e.status)) return true;
    await sleep(100);
  }
  return false;
}

const started = Date.now();
const secondFrom = Math.floor(total / 4);
const secondUntil = Math.floor((3 * total) / 4);
const freezeAt = between(1, total);
await iot.send(
  new CreateJobCommand({
    jobId: JOB,
    targets: [group.thingGroupArn],
    targetSelection: 'CONTINUOUS',
    namespaceId: NAMESPACE,
    document: JSON.stringify(DOCUMENT),
  }),
);
const numbers = [1];
for (let i = 1; i <= total; i++) {
  const n = numbers[numbers.length - 1];
  if (i === secondFrom + 1) {
    second.start();
    counts.secondAgentRuns += 1;
  }
  if (chance(0.5)) void announceAgain(n);
  if (chance(0.12)) schedule(between(0, 1200), () => restartMain('SIGKILL'));
  else if (chance(0.1)) schedule(between(0, 1200), () => restartMain('SIGTERM'));
  if (chance(0.06)) schedule(between(0, 1200), bounceBroker);
  if (i === freezeAt) schedule(between(0, 800), freezeMain);
  const done = await waitTerminal(n);
  await pending; // the agent and the broker are back before the next execution is queued
  if (!done) {
    console.log(`execution ${n} is not terminal after ${EXECUTION_DEADLINE_MS / 1000} s: stopping the run`);
    break;
  }
  if (i === secondUntil && second.alive) await second.stop('SIGTERM'); // between executions: B holds none
  if (i < total) numbers.push(stack.queueExecutionAgain(JOB, THING));
  if (i % 10 === 0)
    console.log(`  ${i}/${total} executions done (${Math.round((Date.now() - started) / 1000)} s)`);
}

// --- the verdict -------------------------------------------------------------------------------------
await pending;
const ranLines = (() => {
  try {
    return readFileSync(runsFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
})();
const perStep = new Map();
for (const line of ranLines) perStep.set(line, (perStep.get(line) ?? 0) + 1);
const twice = new Set([...perStep].filter(([, c]) => c > 1).map(([line]) => Number(line.split(' ')[1])));
let succeeded = 0;
let failedInterrupted = 0;
let otherTerminal = 0;
const finals = new Map();
for (const n of numbers) {
  const e = await latestStatus(n);
  finals.set(n, e?.status);
  if (!e || !TERMINAL.has(e.status)) continue;
  if (e.status === 'SUCCEEDED') succeeded += 1;
  else if (e.status === 'FAILED' && e.statusDetails?.detailsMap?.reason === 'interrupted')
    failedInterrupted += 1;
  else otherTerminal += 1;
}
let refused = 0;
let harmless = 0;
let claimRaces = 0;
for (const r of rejections) {
  const req = requests.get(r.clientToken);
  if (!req) continue;
  if (req.status === 'IN_PROGRESS') claimRaces += 1;
  else if (finals.get(req.executionNumber) === req.status)
    harmless += 1; // an earlier send had landed
  else refused += 1;
}
const seconds = Math.round((Date.now() - started) / 1000);
console.log(`
chaos seed ${seed}: ${numbers.length} executions in ${seconds} s
  lost                 ${numbers.filter((n) => !TERMINAL.has(finals.get(n))).length}
  run twice            ${twice.size}
  succeeded            ${succeeded}
  failed-interrupted   ${failedInterrupted}
  other terminal       ${otherTerminal}
  refused              ${refused}
  (claims lost to the other agent: ${claimRaces}; re-sent statuses the service already held: ${harmless})
  events: ${counts.sigkill} SIGKILL, ${counts.sigterm} SIGTERM, ${counts.brokerBounce} broker restarts, ${counts.sigstop} SIGSTOP 3 s, ${counts.duplicates} duplicate notifications, second agent for executions ${secondFrom + 1}-${secondUntil}
  agent starts: main ${main.starts}, second ${second.starts}`);

await main.stop('SIGTERM');
await second.stop('SIGTERM');
await observer.endAsync(true);
await announcer.endAsync(true);
iot.destroy();
await stack.close();
const bad = numbers.filter((n) => !TERMINAL.has(finals.get(n))).length + twice.size + refused;
if (args.keep || bad > 0) console.log(`  logs and journals kept in ${work}`);
else rmSync(work, { recursive: true, force: true });
process.exitCode = bad > 0 ? 1 : 0;
