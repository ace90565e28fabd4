/**
 * Runs every bench scenario in turn (`npm run bench`); each prints its table and writes JSON; then
 * the SVG report. Each runs under this process's Node flags (package.json: the server's own).
 */
import { spawnSync } from 'node:child_process';

const scenarios = ['render', 'encode', 'live', 'latency', 'preview', 'compositor', 'preview-encode', 'outputs', 'report-svg'];
let failed = 0;
for (const name of scenarios) {
  process.stdout.write(`\n== ${name}\n`);
  const res = spawnSync(process.execPath, [...process.execArgv, `dist/bench/${name}.js`], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
