import { startChild, type ChildServer } from './child-server.js';

/**
 * Kill -9 rounds: 10 clients send a burst of mixed changes (layer create/patch/delete, data
 * patch, config patch) to a real child server; on the K-th 2xx (K random in 20..100) the server
 * is SIGKILLed at once, restarted, and every object must hold the value of its last
 * acknowledged change, or of the one change that was in flight when the kill came (unanswered:
 * either outcome is allowed). The model carries over rounds, so earlier rounds are checked again.
 */

/** One object's value: a layer's `transform.x` (null: absent), a data value, the bitrate. */
type Value = number | string | null;
interface Tracked {
  acked: Value;
  /** The change sent and not answered (at most one per object: each client is sequential). */
  pending?: Value;
}

export interface RoundReport {
  lane: number;
  round: number;
  /** The 2xx on which the kill was sent (20..100). */
  target: number;
  /** 2xx received in all: the target plus answers already on the wire when the kill came. */
  acked: number;
  /** ms between the K-th 2xx and the SIGKILL (the kill is sent from the response callback). */
  killDelayMs: number;
  /** Objects whose stored value differs from both the acknowledged and the in-flight one. */
  lost: string[];
  restartMs: number;
}

const CLIENTS = 10;
/**
 * How long a restarted server may take to answer: lanes restart at once, beside other test files,
 * on CI's 2 cores, where 20 s ran out once; what is tested is what it loads, not how fast.
 */
const READY_MS = 60_000;

/** A tiny seedable PRNG (mulberry32), so a failing round can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function send(base: string, method: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}

/**
 * Runs `rounds` kill -9 rounds in `lanes` independent lanes at once (each its own server and
 * store from `envOf(lane)`, which must outlive the process: a DATA_DIR, or a Redis kept
 * running). Lanes exist only to fit the rounds' restarts (~1 s of module loading each) in time.
 * @returns one report per round
 */
export async function killRounds(
  envOf: (lane: number) => Record<string, string>,
  rounds: number,
  lanes = 1,
  seed = 27,
): Promise<RoundReport[]> {
  const per = Math.ceil(rounds / lanes);
  const results = await Promise.all(
    Array.from({ length: lanes }, (_, lane) =>
      lane * per < rounds ? killLane(envOf(lane), lane, Math.min(per, rounds - lane * per), seed + lane) : [],
    ),
  );
  return results.flat();
}

async function killLane(laneEnv: Record<string, string>, lane: number, rounds: number, seed: number): Promise<RoundReport[]> {
  // Without tap's --import hook and coverage: a SIGKILLed child writes no coverage anyway, and
  // the hook makes each of the many restarts slower.
  const env = { NODE_OPTIONS: '', _TAPJS_PROCESSINFO_COVERAGE_: '0', ...laneEnv };
  const random = rng(seed);
  const model = new Map<string, Tracked>();
  const reports: RoundReport[] = [];
  let server: ChildServer = await startChild(env, { readyMs: READY_MS });
  try {
    for (const [key, v] of await readBack(server)) model.set(key, { acked: v });
    for (let round = 0; round < rounds; round++) {
      const target = 20 + Math.floor(random() * 81);
      let acked = 0;
      let killedAt = 0;
      let killDelayMs = 0;
      let seq = 0;
      const base = server.base;
      const proc = server.proc;
      const ack = (): void => {
        acked++;
        if (acked === target && !killedAt) {
          const t0 = performance.now();
          proc.kill('SIGKILL');
          killedAt = performance.now();
          killDelayMs = killedAt - t0;
        }
      };
      const track = (key: string): Tracked => {
        let o = model.get(key);
        if (!o) model.set(key, (o = { acked: null }));
        return o;
      };
      /** Sends one change to `key`, whose value becomes `value` once it is answered 2xx. */
      const change = async (key: string, value: Value, method: string, path: string, body: unknown): Promise<boolean> => {
        const o = track(key);
        o.pending = value;
        let status: number;
        try {
          status = await send(base, method, path, body);
        } catch {
          return false; // the server is gone: this change's outcome is unknown (pending stays)
        }
        if (status >= 200 && status < 300) {
          o.acked = value;
          delete o.pending;
          ack();
          return true;
        }
        if (!killedAt) throw new Error(`${method} ${path} answered ${status} before the kill`);
        return false;
      };
      const client = async (c: number): Promise<void> => {
        const mine = (): string[] =>
          [...model.entries()]
            .filter(([k, o]) => k.startsWith(`layer:c${c}-`) && o.acked !== null && o.pending === undefined)
            .map(([k]) => k.slice(6));
        while (!killedAt) {
          const s = ++seq;
          const r = random();
          const layers = mine();
          let ok: boolean;
          if (c === 0 && r < 0.15) {
            ok = await change('config:bitrate', 1000 + s, 'PATCH', '/stream/config', { encoder: { bitrateKbps: 1000 + s } });
          } else if (r < 0.3) {
            ok = await change(`data:c${c}`, `r${round}-${s}`, 'PATCH', '/stream/data', { [`c${c}`]: `r${round}-${s}` });
          } else if (layers.length < 3 || r < 0.5) {
            const id = `c${c}-r${round}-${s}`;
            ok = await change(`layer:${id}`, s, 'POST', '/stream/layers', {
              id,
              transform: { x: s, y: 0, width: 2, height: 2 },
              content: { type: 'color', color: '#336699' },
            });
          } else if (r < 0.85) {
            const id = layers[Math.floor(random() * layers.length)]!;
            ok = await change(`layer:${id}`, s, 'PATCH', `/stream/layers/${id}`, { transform: { x: s } });
          } else {
            const id = layers[Math.floor(random() * layers.length)]!;
            ok = await change(`layer:${id}`, null, 'DELETE', `/stream/layers/${id}`, undefined);
          }
          if (!ok) return;
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
      await server.stop('SIGKILL');
      const t0 = Date.now();
      server = await startChild(env, { readyMs: READY_MS });
      const restartMs = Date.now() - t0;
      const stored = await readBack(server);
      const lost: string[] = [];
      for (const [key, o] of model) {
        const v = stored.get(key) ?? null;
        const okValue = v === o.acked || ('pending' in o && v === o.pending);
        if (!okValue)
          lost.push(
            `${key}: stored ${JSON.stringify(v)}, acknowledged ${JSON.stringify(o.acked)}${'pending' in o ? `, in flight ${JSON.stringify(o.pending)}` : ''}`,
          );
        // What is stored now is the truth for the next round.
        o.acked = v;
        delete o.pending;
      }
      reports.push({ lane, round, target, acked, killDelayMs, lost, restartMs });
    }
  } finally {
    await server.stop('SIGKILL');
  }
  return reports;
}

/** The tracked objects as the restarted server holds them. */
async function readBack(s: ChildServer): Promise<Map<string, Value>> {
  const out = new Map<string, Value>();
  const layers = (await s.call('GET', '/stream/layers')).body.layers as { id: string; transform: { x: number } }[];
  for (const l of layers) out.set(`layer:${l.id}`, l.transform.x);
  const { data } = (await s.call('GET', '/stream/data')).body as { data: Record<string, string> };
  for (const [k, v] of Object.entries(data)) out.set(`data:${k}`, v);
  out.set('config:bitrate', (await s.call('GET', '/stream/config')).body.encoder.bitrateKbps as number);
  return out;
}
