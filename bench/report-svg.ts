/**
 * `bench/report`: renders the latest bench results (bench/results/*.json) as one SVG chart,
 * `bench/results/report.svg`: render throughput by worker count (S1-S3 at each size, with the
 * single-thread baseline as 0 workers and the FFmpeg filter graph forms as reference lines),
 * encode frames/s by contender, and the live frame-time breakdown (median render, composite and
 * I420 conversion per frame). Charts are Vega-Lite specs rendered to SVG by Vega, headless.
 * Run after the benches: `npm run bench:report`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const DIR = join('bench', 'results');

/** The newest result of `bench`, or null. */
function latest<T>(bench: string): T | null {
  const name = new RegExp(`^${bench}-\\d{4}-.*\\.json$`);
  const files = readdirSync(DIR)
    .filter((f) => name.test(f))
    .sort();
  const file = files.at(-1);
  return file ? (JSON.parse(readFileSync(join(DIR, file), 'utf8')) as T) : null;
}

interface RenderResult {
  rows: { scene: string; size: string; contender: string; workers: number | null; fps: { median: number } }[];
  machine: { cpuModel: string; cores: number };
}
interface EncodeResult {
  rows: { contender: string; fps: { median: number } }[];
}
interface LiveResult {
  rows: Record<string, string | number>[];
}

const render = latest<RenderResult>('render');
const encode = latest<EncodeResult>('encode');
const live = latest<LiveResult>('live');
const specs: object[] = [];

if (render) {
  const ours = render.rows
    .filter((r) => r.workers !== null)
    .map((r) => ({ series: `${r.scene} ${r.size}`, workers: r.workers, fps: r.fps.median }));
  const ff = render.rows.filter((r) => r.workers === null).map((r) => ({ series: `${r.contender} (S2 ${r.size})`, fps: r.fps.median }));
  specs.push({
    title: 'render: frames/s without encoding, by render workers (0 = main thread only)',
    width: 520,
    height: 260,
    layer: [
      {
        data: { values: ours },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'workers', type: 'ordinal', title: 'render workers' },
          y: { field: 'fps', type: 'quantitative', title: 'frames/s (median)', scale: { type: 'log' } },
          color: { field: 'series', type: 'nominal', title: 'ours' },
        },
      },
      {
        data: { values: ff },
        mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: { y: { field: 'fps', type: 'quantitative' }, color: { value: '#888' }, tooltip: { field: 'series' } },
      },
      {
        data: { values: ff },
        mark: { type: 'text', align: 'left', dx: 4, dy: -5, fontSize: 9, color: '#555' },
        encoding: { y: { field: 'fps', type: 'quantitative' }, x: { value: 0 }, text: { field: 'series' } },
      },
    ],
  });
}
if (encode) {
  specs.push({
    title: 'encode: S2 1080p into libx264 veryfast, frames/s',
    width: 520,
    height: 120,
    data: { values: encode.rows.map((r) => ({ contender: r.contender, fps: r.fps.median })) },
    mark: 'bar',
    encoding: {
      y: { field: 'contender', type: 'nominal', sort: '-x', title: null },
      x: { field: 'fps', type: 'quantitative', title: 'frames/s (median)' },
    },
  });
}
if (live) {
  const stages = live.rows.flatMap((r) => [
    { run: `${r['scene']} ${r['size']}`, stage: 'render', ms: r['render p50'] },
    { run: `${r['scene']} ${r['size']}`, stage: 'composite', ms: r['composite p50'] },
    { run: `${r['scene']} ${r['size']}`, stage: 'I420 conversion', ms: r['i420 p50'] },
  ]);
  specs.push({
    title: 'live @30 fps: frame-time breakdown (medians, ms)',
    width: 520,
    height: 140,
    data: { values: stages },
    mark: 'bar',
    encoding: {
      y: { field: 'run', type: 'nominal', title: null },
      x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'ms per frame' },
      color: { field: 'stage', type: 'nominal' },
    },
  });
}
if (!specs.length) throw new Error(`No bench results in ${DIR}: run the benches first (npm run bench)`);
const machine = render?.machine;
const top = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: 'Stream Manager bench', subtitle: machine ? `${machine.cpuModel}, ${machine.cores} cores` : '' },
  vconcat: specs,
  resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  config: { font: 'sans-serif', axis: { labelLimit: 320 } },
} as TopLevelSpec;
const view = new vega.View(vega.parse(compile(top).spec), { renderer: 'none' });
const svg = await view.toSVG();
const out = join(DIR, 'report.svg');
writeFileSync(out, svg);
process.stdout.write(`wrote ${out}\n`);
