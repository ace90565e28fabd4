import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startChild } from './helpers/child-server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Mounts a tmpfs of `size` at `dir` (needs root); false when this sandbox cannot. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Fills the file system holding `dir` until ENOSPC; returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  const chunks: Buffer[] = [];
  for (;;) {
    try {
      chunks.push(chunk);
      writeFileSync(path, Buffer.concat(chunks));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
      throw err;
    }
  }
  // The last try may have left a partial file that still fits: top it up to the byte.
  try {
    writeFileSync(join(dir, 'filler-tail'), Buffer.alloc(64 * 1024));
  } catch {
    /* full */
  }
  return path;
}

const temps = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('state.json.tmp-'));

const dir = mkdtempSync(join(tmpdir(), 'sm-full-'));
const data = join(dir, 'data');
mkdirSync(data);
const mounted = mountTmpfs(data, '1m');

t.test(
  'a full DATA_DIR (tmpfs): writes fail with 503, no temp file is left, acknowledged changes survive, and it recovers when space returns',
  { skip: mounted ? false : 'cannot mount a tmpfs here (needs root)' },
  async (t) => {
    t.teardown(() => {
      execFileSync('umount', ['-l', data]);
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(join(data, 'state.json.tmp-99999-7'), 'left by a crash');
    const env = {
      NODE_OPTIONS: '',
      STATE_STORE: 'file',
      DATA_DIR: data,
      RECORDINGS_DIR: join(dir, 'rec'),
      AUTOSTART: 'false',
      WORKERS: '1',
      LOG_LEVEL: 'warn',
      DEFAULT_SCENE: 'auction',
    };
    const s = await startChild(env);
    t.teardown(() => s.stop('SIGKILL'));
    t.same(temps(data), [], 'a stale temp file is removed at start');

    const acked = new Array<number>(5).fill(0);
    const sent = new Array<number>(5).fill(0);
    const codes = new Map<string, number>();
    let oks = 0;
    let full = false;
    let stop = false;
    let filler = '';
    const client = async (c: number): Promise<void> => {
      for (let seq = 1; !stop; seq++) {
        sent[c] = seq;
        const res = await s.call('PATCH', '/stream/data', { [`c${c}`]: seq });
        const code = res.status < 300 ? String(res.status) : `${res.status} ${res.body?.error?.code}`;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (res.status < 300) acked[c] = seq;
        if (++oks === 40 && !full) {
          full = true;
          filler = fill(data);
        }
        if (res.status >= 300) await sleep(20);
      }
    };
    const burst = Promise.all(Array.from({ length: 5 }, (_, c) => client(c)));
    while (!full) await sleep(5);
    // While full (over at least one 1 s retry): no temp file outlives its write.
    const seen: string[][] = [];
    for (let i = 0; i < 8; i++) {
      seen.push(temps(data));
      await sleep(200);
    }
    const lingering = seen.flatMap((names, i) => (i ? names.filter((n) => seen[i - 1]!.includes(n)) : []));
    t.same(lingering, [], 'no temp file survives a failed write');
    const health = (await s.call('GET', '/health')).body;
    t.match(health.store, { kind: 'file', status: 'degraded' }, '/health says the store is degraded');
    t.match(s.output(), /ENOSPC/, 'the cause is logged');
    stop = true;
    await burst;
    t.ok((codes.get('503 SM_ERR_STORE_UNAVAILABLE') ?? 0) > 0, `refused with 503 while full: ${JSON.stringify(Object.fromEntries(codes))}`);
    t.same(
      [...codes.keys()].filter((c) => c !== '200' && c !== '503 SM_ERR_STORE_UNAVAILABLE'),
      [],
      'no other answer',
    );

    rmSync(filler);
    rmSync(`${filler}-tail`, { force: true });
    const back = Date.now();
    while ((await s.call('GET', '/health')).body.store.status !== 'ok' && Date.now() - back < 3000) await sleep(50);
    t.equal((await s.call('GET', '/health')).body.store.status, 'ok', `space back: stored again after ${Date.now() - back} ms`);
    t.equal((await s.call('PATCH', '/stream/data', { after: 1 })).status, 200, 'changes are accepted again');
    t.same(temps(data), [], 'no temp file left');

    await s.stop('SIGKILL');
    const again = await startChild(env);
    t.teardown(() => again.stop('SIGKILL'));
    const stored = (await again.call('GET', '/stream/data')).body.data as Record<string, number>;
    for (let c = 0; c < 5; c++) {
      const v = stored[`c${c}`] ?? 0;
      t.ok(v >= acked[c]! && v <= sent[c]!, `client ${c}: stored ${v}, acknowledged ${acked[c]}, last sent ${sent[c]}`);
    }
    t.equal(stored['after'], 1);
  },
);
