import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { loadConfig } from '../orchestrator/config/env.js';
import { auctionScene } from '../orchestrator/scene/default-scene.js';
import { FileStore, STATE_FILE } from '../orchestrator/state/file-store.js';
import { MemoryStore } from '../orchestrator/state/memory-store.js';
import { REDIS_KEYS, RedisStore } from '../orchestrator/state/redis-store.js';
import { StateManager } from '../orchestrator/state/state-manager.js';
import type { StateStore } from '../orchestrator/state/store.js';
import { startRedis } from './helpers/redis.js';

const log = pino({ level: 'silent' });
const defaults = { config: loadConfig({}).stream, layers: auctionScene(1280, 720) };

/** How a test reaches one kind of store: open it again (a "restart"), and break its stored layers. */
interface Harness {
  open(): Promise<StateStore>;
  corruptLayers(): Promise<void>;
  /** Layer ids loaded after corruptLayers: the valid ones kept, or the defaults when the whole document was unreadable. */
  keptIds: string[];
  /** Where bad data was set aside, if anywhere visible. */
  setAside(): Promise<boolean>;
}

async function manager(h: Harness): Promise<{ state: StateManager; restored: boolean; problems: unknown[] }> {
  const state = new StateManager({ store: await h.open(), defaults, log });
  const { restored, problems } = await state.load();
  return { state, restored, problems };
}

function conformance(parent: Pick<typeof t, 'test'>, kind: string, h: Harness): Promise<unknown> {
  return parent.test(`state conformance: ${kind}`, async (t) => {
    await t.test('first boot: defaults, written, read back whole', async (t) => {
      const { state, restored } = await manager(h);
      t.equal(restored, false);
      t.same(
        state.scene.list().map((l) => l.id),
        ['background', 'host', 'overlay'],
      );
      const doc = state.document();
      await state.close();
      const again = await manager(h);
      t.equal(again.restored, true);
      t.same(again.state.document(), doc);
      await again.state.close();
    });

    await t.test('changes survive a restart exactly; versions only go up', async (t) => {
      const { state } = await manager(h);
      const v0 = state.version;
      state.scene.create({
        id: 'ticker',
        zIndex: 30,
        transform: { x: 10, y: 600 },
        content: { type: 'text', content: 'Lot 7', style: { font: 'Arial', fontSize: 18, color: '#ff0' } },
      });
      state.scene.patch('overlay', { content: { content: 'Current Bid: 4.2 ETH' }, opacity: 0.8 });
      state.scene.setVisibility('host', { visible: false });
      state.scene.delete('background');
      state.setConfig({ ...state.config, targetFPS: 25, encoder: { ...state.config.encoder, bitrateKbps: 4000 } });
      t.ok(state.version >= v0 + 5, 'one version per change');
      const doc = state.document();
      await state.close();
      const again = await manager(h);
      t.equal(again.restored, true);
      t.same(again.state.document(), doc, 'deep-equal after restart');
      t.same(
        again.state.scene.list().map((l) => l.id),
        ['host', 'overlay', 'ticker'],
        'order kept',
      );
      again.state.scene.patch('ticker', { content: { content: 'Lot 8' } });
      t.ok(again.state.version > doc.version, 'version keeps rising after a restart');
      await again.state.close();
    });

    await t.test('a refused change changes nothing', async (t) => {
      const { state } = await manager(h);
      const before = state.document();
      t.throws(() => state.scene.patch('overlay', { opacity: 3 }), { code: 'SM_ERR_VALIDATION' });
      t.throws(() => state.scene.create({ id: 'overlay', content: { type: 'color', color: 'red' } }), { code: 'SM_ERR_LAYER_EXISTS' });
      t.throws(() => state.replaceScene({ canvas: { width: 10, height: 10, targetFPS: 30, background: '#000' }, layers: [] }), {
        code: 'SM_ERR_VALIDATION',
      });
      t.same(state.document(), before);
      await state.close();
    });

    await t.test('If-Match: of two changes from the same version, exactly one wins', async (t) => {
      const { state } = await manager(h);
      const rev = state.scene.entry('overlay').revision;
      const results = ['A', 'B'].map((who) => {
        try {
          state.scene.patch('overlay', { content: { content: `Bid by ${who}` } }, rev);
          return 'ok';
        } catch (err) {
          return (err as { code: string }).code;
        }
      });
      t.same(results.sort(), ['SM_ERR_PRECONDITION_FAILED', 'ok']);
      t.throws(() => state.setConfig(state.config, state.configVersion + 99), { code: 'SM_ERR_PRECONDITION_FAILED' });
      await state.close();
    });

    await t.test('invalid stored layers: reported, set aside, the valid rest kept; next start is clean', async (t) => {
      await h.corruptLayers();
      const { state, problems } = await manager(h);
      t.ok(problems.length > 0, `problems reported: ${JSON.stringify(problems[0])}`);
      t.same(
        state.scene.list().map((l) => l.id),
        h.keptIds,
        'valid layers kept (defaults only for an unreadable document)',
      );
      t.same(state.health().loadProblems.count, problems.length, '/health counts them');
      t.ok(await h.setAside(), 'the bad document was set aside');
      await state.close();
      const again = await manager(h);
      t.same(again.problems, [], 'clean after the defaults were written');
      await again.state.close();
    });
  });
}

const memory = new MemoryStore();
void conformance(t, 'memory', {
  open: async () => memory,
  corruptLayers: async () => {
    const doc = JSON.parse(memory.raw ?? '{}');
    memory.raw = JSON.stringify({ ...doc, layers: [doc.layers.find((l: { id: string }) => l.id === 'overlay'), { id: 'no content' }] });
  },
  keptIds: ['overlay'],
  setAside: async () => true,
});

const dir = mkdtempSync(join(tmpdir(), 'sm-state-'));
void conformance(t, 'file', {
  open: async () => new FileStore(dir),
  corruptLayers: async () => writeFileSync(join(dir, STATE_FILE), '{"version": 3, "layers": [{"id": "torn'),
  keptIds: ['background', 'host', 'overlay'],
  setAside: async () => readdirSync(dir).some((f) => f.startsWith(`${STATE_FILE}.corrupt-`)),
});

t.test('redis store', async (t) => {
  const server = await startRedis();
  t.teardown(() => server.stop());
  const prefix = 'test:';
  const probe = new RedisStore(server.url, prefix, log);
  await probe.connect();
  t.teardown(() => probe.close());
  await conformance(t, 'redis', {
    open: async () => {
      const store = new RedisStore(server.url, prefix, log);
      await store.connect();
      return store;
    },
    corruptLayers: async () =>
      void (await probe.redis.set(prefix + REDIS_KEYS.layers, '[{"id": 5}, {"id": "box", "content": {"type": "color", "color": "red"}}]')),
    keptIds: ['box'],
    setAside: async () => (await probe.redis.exists(prefix + REDIS_KEYS.layers + ':corrupt')) === 1,
  });

  await t.test('redis keys: the contract names under the prefix, metrics with TTLs', async (t) => {
    const store = new RedisStore(server.url, prefix, log);
    await store.connect();
    await store.saveMetrics({ stream: { fps: 30 }, system: { cpuCores: 2 }, health: { status: 'ok' } });
    const keys = (await probe.redis.keys(`${prefix}*`)).sort();
    for (const k of [
      'stream:state',
      'stream:config',
      'stream:metrics',
      'system:health',
      'system:metrics',
      'scene:layers',
      'assets:index',
      'state:version',
    ]) {
      t.ok(keys.includes(prefix + k), `${prefix}${k}`);
    }
    const ttl = async (k: string): Promise<number> => probe.redis.ttl(prefix + k);
    t.ok((await ttl('stream:metrics')) > 50 && (await ttl('stream:metrics')) <= 60, 'stream:metrics TTL 60 s');
    t.ok((await ttl('system:health')) > 50 && (await ttl('system:health')) <= 60, 'system:health TTL 60 s');
    t.ok((await ttl('system:metrics')) > 290 && (await ttl('system:metrics')) <= 300, 'system:metrics TTL 300 s');
    t.equal(await ttl('stream:state'), -1, 'state keys do not expire');
    await store.close();
  });
});
