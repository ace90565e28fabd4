import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { killRounds, type RoundReport } from './helpers/kill-rounds.js';

// 20 kill -9 rounds, each a server start: on CI's 2 cores, beside two other test files, that takes
// 60-80 s; the file's timeout is sized for it (tap's default for this project is 120 s).
t.setTimeout(240_000);

const ROUNDS = 20;
/** Rounds run in 4 lanes at once (each its own server and DATA_DIR) so 20 restarts fit in time. */
const LANES = 4;

/** Asserts the rounds' outcome: nothing acknowledged lost, each kill sent on its 2xx. */
function checkRounds(t: Tap, reports: RoundReport[]): void {
  t.equal(reports.length, ROUNDS, `${ROUNDS} rounds`);
  for (const r of reports) {
    t.ok(
      r.target >= 20 && r.target <= 100 && r.acked >= r.target,
      `lane ${r.lane} round ${r.round}: killed on 2xx #${r.target} (${r.acked} in all), ${r.killDelayMs.toFixed(2)} ms after it; restart ${r.restartMs} ms`,
    );
    t.same(r.lost, [], 'every acknowledged change is there, nothing reverted or resurrected');
  }
  const delays = reports.map((r) => r.killDelayMs).sort((a, b) => a - b);
  const median = delays[Math.floor(delays.length / 2)]!;
  // The kill is sent synchronously from the K-th 2xx's callback; more than that is this process
  // being descheduled, so the 5 ms bound is only asserted while the machine is not overloaded.
  if (loadavg()[0]! < cpus().length)
    t.ok(median < 5, `median kill delay ${delays[Math.floor(delays.length / 2)]!.toFixed(2)} ms < 5 ms (max ${delays.at(-1)!.toFixed(2)})`);
  else
    t.comment(
      `median kill delay ${delays[Math.floor(delays.length / 2)]!.toFixed(2)} ms < 5 ms (max ${delays.at(-1)!.toFixed(2)})` +
        ` (load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores: not asserted)`,
    );
}
type Tap = typeof t;

t.test(
  `file store: ${ROUNDS} rounds of a burst from 10 clients, kill -9 on a 2xx, restart: every acknowledged change is there`,
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-kill-file-'));
    const started = Date.now();
    const reports = await killRounds(
      (lane) => ({
        STATE_STORE: 'file',
        DATA_DIR: join(dir, `data-${lane}`),
        RECORDINGS_DIR: join(dir, 'rec'),
        AUTOSTART: 'false',
        WORKERS: '1',
        LOG_LEVEL: 'warn',
        DEFAULT_SCENE: 'empty',
      }),
      ROUNDS,
      LANES,
    );
    checkRounds(t as unknown as Tap, reports);
    t.comment(`${ROUNDS} rounds in ${LANES} lanes: ${Date.now() - started} ms`);
  },
);
