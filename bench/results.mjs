// Where every benchmark leaves its figures for `npm run bench` (bench/run-all.mjs): one JSON file per
// benchmark in BENCH_RESULTS_DIR (default bench/results/, git-ignored), read back to write the report
// and draw the plots. A benchmark run on its own still prints its figures as before.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = resolve(
  process.env.BENCH_RESULTS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'results'),
);

/** Writes `<RESULTS_DIR>/<name>.json`. */
export function saveResult(name, data) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(data, null, 1)}\n`);
}

/** A figure for the report: value, its floor (same run), the ratio and the goal (a ratio or a bound). */
export function figure(name, value, floor, unit, goal) {
  return { name, value, floor, unit, ratio: floor ? value / floor : undefined, goal };
}
