// The benchmark plots: Vega-Lite specifications compiled and rendered to SVG headless by vega's
// View.toSVG() (no browser, no canvas). Inputs are the JSON results of the benchmarks.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile } from 'vega-lite';

async function toSvg(spec) {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const WIDTH = 560;
const HEIGHT = 260;

/** Latency distribution (ECDF) of notification -> SUCCEEDED accepted, beside the floor F. */
function latencySpec({ samples }) {
  const ecdf = (values, series) =>
    [...values].sort((a, b) => a - b).map((ms, i, all) => ({ ms, fraction: (i + 1) / all.length, series }));
  const values = [
    ...ecdf(samples.toSucceeded, 'ggjobs: notification -> SUCCEEDED accepted'),
    ...ecdf(samples.floor, 'F: 3 round trips + 2 fsyncs + 1 spawn'),
  ];
  return {
    title: 'Execution latency against the floor F (cumulative distribution)',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', title: 'milliseconds', scale: { type: 'log' } },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of executions' },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
    },
  };
}

/** The agent's RSS after each execution, with the bare client's idle RSS as a rule. */
function rssSpec({ rssSeries, bareIdleMiB }) {
  return {
    title: 'Agent RSS over executions (bare node + mqtt.js idle as the rule)',
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: rssSeries },
        mark: { type: 'line' },
        encoding: {
          x: { field: 'execution', type: 'quantitative', title: 'executions' },
          y: { field: 'rssMiB', type: 'quantitative', title: 'RSS (MiB)', scale: { zero: true } },
        },
      },
      {
        data: { values: [{ y: bareIdleMiB }, { y: bareIdleMiB * 1.35 }] },
        mark: { type: 'rule', strokeDash: [4, 4] },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}

/** Devices enrolled over simulated time, first boot and restart. */
function fleetSpec({ firstBoot, restart }) {
  const values = [
    ...firstBoot.enrolledOverTime.map((p) => ({ ...p, run: 'first boot' })),
    ...restart.enrolledOverTime.map((p) => ({ ...p, run: 'restart' })),
  ];
  return {
    title: 'Fleet enrollment: devices enrolled over (simulated) time',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'seconds (simulated)' },
      y: { field: 'enrolled', type: 'quantitative', title: 'devices enrolled' },
      color: { field: 'run', type: 'nominal', title: null, legend: { orient: 'bottom' } },
    },
  };
}

/** How many devices made 0, 1, 2, ... control-plane calls at the first boot. */
function callsSpec({ firstBoot }) {
  return {
    title: 'Fleet first boot: control-plane calls per device',
    width: WIDTH,
    height: HEIGHT,
    data: { values: firstBoot.callsHistogram },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'calls', type: 'ordinal', title: 'control-plane calls made by a device' },
      y: { field: 'devices', type: 'quantitative', title: 'devices', scale: { type: 'symlog' } },
    },
  };
}

/** Renders every plot into `dir`; returns [{ file, title }]. */
export async function renderPlots({ latency, resources, fleet }, dir) {
  const plots = [
    ['latency.svg', latencySpec(latency)],
    ['rss.svg', rssSpec(resources)],
    ['fleet-enrolled.svg', fleetSpec(fleet)],
    ['fleet-calls.svg', callsSpec(fleet)],
  ];
  const out = [];
  for (const [file, spec] of plots) {
    writeFileSync(join(dir, file), await toSvg(spec));
    out.push({ file, title: spec.title });
  }
  return out;
}
