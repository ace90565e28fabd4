/**
 * The Prometheus alert rules (deploy/prometheus/alerts.yml): valid (`promtool check rules`),
 * each one unit-tested with a case that fires and one that does not (`promtool test rules` on
 * alerts.test.yml), and written against metric names this server exports.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { Metrics } from '../orchestrator/metrics/metrics.js';

const RULES = 'deploy/prometheus/alerts.yml';
const TESTS = 'deploy/prometheus/alerts.test.yml';

const promtool = (...args: string[]): { status: number | null; out: string; error?: Error } => {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, ...(r.error ? { error: r.error } : {}) };
};

t.test('promtool check rules', async (t) => {
  const r = promtool('check', 'rules', RULES);
  t.equal(r.error, undefined, 'promtool is installed (apt-get install prometheus)');
  t.equal(r.status, 0, r.out);
  t.match(r.out, /SUCCESS: 6 rules found/);
});

t.test('promtool test rules: every alert has a unit test, and they pass', async (t) => {
  const alerts = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert: (\S+)/gm)].map((m) => m[1]!);
  t.same(
    alerts.sort(),
    [
      'StreamManagerDiskNearlyFull',
      'StreamManagerEventLoopLag',
      'StreamManagerFramesDropped',
      'StreamManagerOutputNotLive',
      'StreamManagerStoreFailing',
      'StreamManagerWorkerRestarts',
    ],
    'the six alerts',
  );
  const tests = readFileSync(TESTS, 'utf8');
  for (const a of alerts) {
    t.ok(new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests), `${a}: a test in which it fires`);
  }
  const r = promtool('test', 'rules', TESTS);
  t.equal(r.status, 0, r.out);
  t.match(r.out, /SUCCESS/);
});

t.test('the rules use metric names this server exports', async (t) => {
  const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const expr = readFileSync(RULES, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');
  const used = new Set([...expr.matchAll(/\b((?:stream_manager|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!));
  t.ok(used.size >= 9, `${used.size} metric names used`);
  for (const name of used) {
    t.ok(exported.has(name), `${name} is exported`);
  }
});

t.test('the Grafana dashboard: an instance variable every query filters by, output-health panels, exported names', async (t) => {
  const d = JSON.parse(readFileSync('orchestrator/metrics/grafana-dashboard.json', 'utf8')) as {
    templating: { list: Array<{ name: string; query: { query: string } }> };
    panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }>;
  };
  t.match(
    d.templating.list.find((v) => v.name === 'instance')?.query.query,
    /label_values\(stream_manager_\w+, instance\)/,
    'instance variable from the exported series',
  );
  const exported = new Set((await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name));
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr));
  for (const expr of exprs) {
    const names = [...expr.matchAll(/\b((?:stream_manager|nodejs)_[a-z0-9_]+)(\{[^}]*\})?/g)];
    t.ok(names.length > 0 && names.every((m) => m[2]?.includes('instance=~"$instance"')), `filtered by $instance: ${expr}`);
    for (const [, name] of names) {
      const base = name!.replace(/_(bucket|sum|count)$/, '');
      if (!exported.has(base)) t.fail(`${name} is not exported`);
    }
  }
  for (const title of [
    'Outputs: live (1) or not (0), by output',
    'Outputs down: connecting, reconnecting, failed',
    'Output bitrate by output',
  ]) {
    t.ok(
      d.panels.some((p) => p.title === title),
      `panel "${title}"`,
    );
  }
});
