// `npm run bench`: builds, packages the component, runs every benchmark (bounded, loopback only) and
// writes bench/results/ (git-ignored): report.md with each figure, its floor, the ratio and the goal,
// and SVG plots rendered headless with Vega-Lite (vega's View.toSVG()).
//   BENCH_QUICK=1   fewer iterations (100 executions, 2,000 devices), for a quick look
//   BENCH_EXECUTIONS, BENCH_STARTS, BENCH_FLEET_DEVICES   override single counts
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR } from './results.mjs';
import { renderPlots } from './plots.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const quick = process.env.BENCH_QUICK === '1';
const env = {
  ...process.env,
  BENCH_RESULTS_DIR: RESULTS_DIR,
  BENCH_EXECUTIONS: process.env.BENCH_EXECUTIONS ?? (quick ? '100' : '1000'),
  BENCH_STARTS: process.env.BENCH_STARTS ?? (quick ? '5' : '10'),
  BENCH_FLEET_DEVICES: process.env.BENCH_FLEET_DEVICES ?? (quick ? '2000' : '10000'),
};

function run(label, command, args, timeoutMs) {
  process.stdout.write(`\n### ${label}: ${[command, ...args].join(' ')}\n`);
  const r = spawnSync(command, args, { cwd: root, env, stdio: 'inherit', timeout: timeoutMs });
  if (r.status !== 0)
    throw new Error(`${label} failed (status ${r.status}${r.signal ? `, ${r.signal}` : ''})`);
}

run('build', 'npm', ['run', 'build'], 300_000);
run('package', 'node', ['scripts/package.mjs'], 300_000);
run('latency', 'node', ['bench/latency.mjs'], 900_000);
run('resources', 'node', ['bench/resources.mjs'], 1_200_000);
run('enroll-fleet', 'node', ['bench/enroll-fleet.mjs'], 900_000);

const load = (name) => JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), 'utf8'));
const results = { latency: load('latency'), resources: load('resources'), fleet: load('enroll-fleet') };
const plots = await renderPlots(results, RESULTS_DIR);

const num = (v) =>
  v === undefined || Number.isNaN(v) ? '' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(v < 1 ? 3 : 2);
function verdict(f) {
  if (!f.goal) return '';
  if (f.goal.maxRatio !== undefined) return f.ratio <= f.goal.maxRatio ? 'met' : 'NOT met';
  return f.value <= f.goal.max ? 'met' : 'NOT met';
}
const goalText = (g) => (!g ? '' : g.maxRatio !== undefined ? `<= ${g.maxRatio}x` : `<= ${g.max}`);
const rows = [...results.latency.figures, ...results.resources.figures, ...results.fleet.figures].map(
  (f) =>
    `| ${f.name} | ${num(f.value)} | ${num(f.floor)} | ${f.ratio === undefined ? '' : `${num(f.ratio)}x`} | ${goalText(f.goal)} | ${verdict(f)} |`,
);
const parts = results.latency.floorParts;
const report = `# ggjobs benchmarks

${new Date().toISOString()}, node ${process.version}, ${process.platform}/${process.arch}${quick ? ', BENCH_QUICK' : ''}.
Every floor is measured in the same run; the ratio is figure / floor.

| figure | value | floor | ratio | goal | |
|---|---|---|---|---|---|
${rows.join('\n')}

Latency floor F (p50 of its parts, ms): 3 round trips ${num(parts.roundTrips.p50)}, 2 fsyncs ${num(parts.fsyncs.p50)}, 1 spawn ${num(parts.spawn.p50)}; F p50 ${num(parts.total.p50)}, p99 ${num(parts.total.p99)} (${results.latency.executions} executions).

Fleet: ${results.fleet.devices} devices in ${results.fleet.groups} groups, time scale x${results.fleet.scale}, enroll.firstBootWaitSeconds ${results.fleet.firstBootWaitSeconds}.
First boot: ${JSON.stringify(results.fleet.firstBoot.results)}, control-plane calls ${JSON.stringify(results.fleet.firstBoot.calls)}, data-plane looks ${results.fleet.firstBoot.looks}.
Restart: ${JSON.stringify(results.fleet.restart.results)}, control-plane calls ${JSON.stringify(results.fleet.restart.calls)}, data-plane looks ${results.fleet.restart.looks}, ${num(results.fleet.restart.simulatedMs / 1000)} s.

${plots.map((p) => `![${p.title}](${p.file})`).join('\n\n')}
`;
writeFileSync(join(RESULTS_DIR, 'report.md'), report);
process.stdout.write(`\n${report}\nwritten to ${RESULTS_DIR}\n`);
