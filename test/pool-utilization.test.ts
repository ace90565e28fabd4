/**
 * Pool utilisation from the real transport: with 2 workers busy on the S3 bench scene (built as
 * bench/render.ts builds it), `stream_manager_pool_utilization_ratio` and the busy-seconds
 * counter read > 0.5, where Piscina's own figure (the job ring bypasses it) read ~0.00002; and
 * the Grafana dashboard's pool panel, evaluated by a real Prometheus scraping the busy pool,
 * reads > 0.5 too.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openRig, type Rig } from '../bench/offline.js';
import { PIPELINE_DEPTH } from '../orchestrator/render/frame-composer.js';
import { Metrics } from '../orchestrator/metrics/metrics.js';
import { PoolUtilization, WINDOW_MS } from '../pool/pool-utilization.js';
import { freePort } from './helpers/rtmp-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `name value` of an unlabelled sample in exposition text, or NaN. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

t.test('the ratio: busy time over wall time x threads, over windows of a second or more', async (t) => {
  const u = new PoolUtilization(0);
  u.add(300);
  u.add(-5);
  u.add(Number.NaN);
  t.equal(u.ratio(2, 500), 0.3, 'before the first full window: since the start (300 ms / (500 ms x 2))');
  u.add(1100);
  t.equal(u.ratio(2, WINDOW_MS), 0.7, 'first full window: 1400 / (1000 x 2)');
  u.add(2000);
  t.equal(u.ratio(2, 1500), 0.7, 'within the next window: the last full one');
  t.equal(u.ratio(2, 2000), 1, 'a task that began in the window before counts when it ends: clamped to 1');
  t.equal(u.ratio(2, 4000), 0, 'idle');
  t.equal(u.busySeconds, 3.4, 'busy seconds, all threads');
  t.equal(u.ratio(0, 5000), 0, 'no threads');
});

/** Runs the rig's frames back to back (PIPELINE_DEPTH in flight, as bench:render) until `stop()`. */
function keepBusy(rig: Rig): { frames: () => number; stop: () => Promise<void> } {
  let running = true;
  let frames = 0;
  const done = (async () => {
    const inFlight = [rig.next()];
    while (inFlight.length) {
      while (running && inFlight.length < PIPELINE_DEPTH) inFlight.push(rig.next());
      const f = await inFlight.shift()!;
      if (f) rig.frames.release(f);
      frames++;
    }
  })();
  return {
    frames: () => frames,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/**
 * Nanoseconds each thread of this process has been running, and waiting for a core while
 * runnable, so far, by thread id: /proc/<pid>/task/<tid>/schedstat (its first two fields; Linux).
 * A thread that sleeps (a worker waiting for a job) adds to neither.
 */
function schedstat(): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(Number(tid), [run!, wait!]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * The kernel's view of the 2 workers between two {@link schedstat} reads `wall` seconds apart
 * (the two threads besides the main one that were runnable the longest): their share of the
 * time on a core (`cpu`), and running or waiting for a core (`runnable`), each 0..1 per thread.
 * A worker is in a task only while runnable, and runs little outside tasks, so a faithful
 * utilisation lies between the two (on an idle machine they coincide).
 */
function workerShares(
  before: Map<number, [number, number]>,
  after: Map<number, [number, number]>,
  wall: number,
): { cpu: number; runnable: number } {
  const rows = [...after]
    .filter(([tid]) => tid !== process.pid)
    .map(([tid, [run, wait]]) => {
      const [run0, wait0] = before.get(tid) ?? [run, wait];
      return { cpu: (run - run0) / 1e9 / wall, runnable: (run - run0 + wait - wait0) / 1e9 / wall };
    })
    .sort((x, y) => y.runnable - x.runnable);
  return { cpu: (rows[0]!.cpu + rows[1]!.cpu) / 2, runnable: (rows[0]!.runnable + rows[1]!.runnable) / 2 };
}

/** Asserts `value` (a utilisation) against the kernel's `k`: within its bounds, and > 0.5 when the workers got a core most of the time. */
function checkAgainstKernel(t: Test, what: string, value: number, k: { cpu: number; runnable: number }): void {
  const bounds = `kernel: workers on a core ${k.cpu.toFixed(3)}, runnable ${k.runnable.toFixed(3)} of the time`;
  t.ok(value >= k.cpu - 0.1 && value <= k.runnable + 0.1, `${what} ${value.toFixed(3)} lies within the kernel's bounds (${bounds})`);
  if (k.cpu > 0.6) t.ok(value > 0.5, `${what} ${value.toFixed(3)} > 0.5`);
  // A machine so loaded that the workers got a core less than 60 % of the time: each wake-up of
  // the main thread (and of a worker) waits for a core, and the workers really are out of tasks
  // part of the time; the bounds above still hold.
  else t.comment(`${what}: > 0.5 not checked, the workers got a core only ${k.cpu.toFixed(3)} of the time`);
}

t.test('2 workers busy on S3 1080p: utilisation > 0.5 (gauge, counter and the Grafana panel in a real Prometheus)', async (t) => {
  const rig = await openRig({ scene: 'S3', width: 1920, height: 1080, fps: 30, workers: 2, yuv: true });
  t.teardown(() => rig.close());
  const pool = rig.pool!;
  const metrics = new Metrics();
  metrics.sources.pool = () => pool.stats();
  const busy = keepBusy(rig);
  t.teardown(() => busy.stop());

  // The WS metricsUpdate reads once a second; the gauge then covers the last second.
  pool.stats();
  await sleep(1000);
  const a = await metrics.scrape();
  const k0 = schedstat();
  const t0 = performance.now();
  await sleep(1000);
  const gauge = sample((await metrics.scrape()).body, 'stream_manager_pool_utilization_ratio');
  await sleep(1500);
  const k1 = schedstat();
  const b = await metrics.scrape();
  const wall = (performance.now() - t0) / 1000;
  const counter =
    (sample(b.body, 'stream_manager_pool_busy_seconds_total') - sample(a.body, 'stream_manager_pool_busy_seconds_total')) / wall / 2;
  const kernel = workerShares(k0, k1, wall);
  t.comment(`${busy.frames()} frames; Piscina's own utilization: ${pool.piscina.utilization.toFixed(5)}`);
  checkAgainstKernel(t, 'rate(stream_manager_pool_busy_seconds_total) / threads', counter, kernel);
  checkAgainstKernel(t, 'stream_manager_pool_utilization_ratio', gauge, kernel);
  t.ok(gauge <= 1 && counter <= 1.05, 'not over the capacity');
  t.ok(pool.piscina.utilization < 0.1, "Piscina's own figure misses the job ring (why this measure exists)");

  // The dashboard's own expression, evaluated by Prometheus on scrapes of this busy pool, with
  // $__rate_interval as Grafana sets it for the scrape interval (4 x the interval): 250 ms here,
  // so that the pool is kept busy for 2 s of scrapes rather than 5 (CI's CPU).
  const dashboard = JSON.parse(readFileSync('orchestrator/metrics/grafana-dashboard.json', 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  };
  const expr = dashboard.panels.find((p) => p.title === 'Pool utilisation and queue')?.targets?.[0]?.expr ?? '';
  t.match(expr, /rate\(stream_manager_pool_busy_seconds_total/, 'the panel plots the busy-seconds rate');
  const server = createServer((_req, res) => {
    void metrics.scrape().then(({ body, contentType }) => res.writeHead(200, { 'content-type': contentType }).end(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const target = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'sm-prom-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 250ms, scrape_timeout: 200ms }\nscrape_configs: [{ job_name: stream-manager, static_configs: [{ targets: ['${target}'] }] }]\n`,
  );
  const port = await freePort();
  const prom = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prom.stderr.on('data', (d: Buffer) => (log += d.toString()));
  t.teardown(() => {
    prom.kill('SIGKILL');
  });
  const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
    return ((await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
  };
  // Once Prometheus has 8+ scrapes of the busy pool (20 s at most on a loaded machine).
  const q = expr.replaceAll('$__rate_interval', '1s').replaceAll('$instance', target.replaceAll('.', '\\\\.'));
  let result: Awaited<ReturnType<typeof query>> = [];
  let scraped = 0;
  const end = Date.now() + 20_000;
  const p0 = schedstat();
  const pt0 = performance.now();
  while (Date.now() < end) {
    await sleep(250);
    try {
      scraped = Number((await query('count_over_time(stream_manager_pool_threads[1m])'))[0]?.value[1] ?? 0);
      if (scraped >= 8) {
        result = await query(q);
        break;
      }
    } catch {
      // Not listening yet.
    }
  }
  const pWall = (performance.now() - pt0) / 1000;
  const pKernel = workerShares(p0, schedstat(), pWall);
  t.equal(
    result.length,
    1,
    `one series for instance ${target} after ${scraped} scrapes${result.length ? '' : `; prometheus said: ${log.slice(-500)}`}`,
  );
  checkAgainstKernel(t, `the panel's "${q}"`, Number(result[0]?.value[1]), pKernel);
});
