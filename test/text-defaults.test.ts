import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ManualClock } from '../orchestrator/motion/scene-clock.js';
import { DEFAULT_CHAT_STYLE, DEFAULT_FONT } from '../shared/scene.js';
import { startServer, type Pixels } from './helpers/server.js';

/**
 * Issue 28, item 7: a chat layer shows `maxMessages` messages whole (its box counts each message's
 * padding and the gaps), `style` of a chat layer and `style.font` of any text layer have defaults,
 * and layers stored without them load. Checked in the pixels of /stream/snapshot (real worker pool).
 */

/** A run of rows `[top, bottom)` in which `hit` is true for some pixel of the row in x 0..width. */
interface Band {
  top: number;
  bottom: number;
}

/** The runs of rows, within `y0..y1`, that have a pixel for which `hit` holds. */
function bands(p: Pixels, y0: number, y1: number, hit: (rgb: number[]) => boolean): Band[] {
  const out: Band[] = [];
  let open: Band | undefined;
  for (let y = y0; y < y1; y++) {
    let any = false;
    for (let x = 0; x < p.width && !any; x++) any = hit(p.at(x, y).slice(0, 3));
    if (any && !open) open = { top: y, bottom: y + 1 };
    else if (any && open) open.bottom = y + 1;
    else if (!any && open) {
      out.push(open);
      open = undefined;
    }
  }
  if (open) out.push(open);
  return out;
}

const ink = (rgb: number[]): boolean => Math.max(...rgb) > 100;

t.test('a chat layer with maxMessages N and N one-line messages shows all N whole', async (t) => {
  const clock = new ManualClock(10_000);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' }, { clock });
  t.teardown(() => s.close());
  for (const n of [1, 3, 4]) {
    const id = `chat${n}`;
    t.equal(
      (
        await s.call('POST', '/stream/layers', {
          id,
          transform: { x: 0, y: 0 },
          content: { type: 'chat', maxMessages: n, width: 320, style: { font: 'Arial', fontSize: 20, color: '#ffffff' } },
        })
      ).status,
      201,
    );
    // Same glyphs in every message (accent above, descender below): every line inks the same rows.
    for (let i = 0; i < n + 2; i++)
      t.equal((await s.call('POST', '/stream/chat', { user: 'Ág', text: `jÁg ${i % 2 ? 'x' : 'y'}` })).status, 201);
    clock.set(clock.now() + 100);
    const shot = await s.snapshot();
    const lines = bands(shot, 0, 240, ink);
    t.equal(lines.length, n, `maxMessages ${n}: ${n} lines of text drawn (${JSON.stringify(lines)})`);
    t.ok(lines[0]!.top > 0, `maxMessages ${n}: the oldest line does not touch the top of the box (first ink row ${lines[0]?.top})`);
    const heights = lines.map((b) => b.bottom - b.top);
    t.ok(
      Math.max(...heights) - Math.min(...heights) <= 1,
      `maxMessages ${n}: every line inked whole, the same height (${heights.join(', ')})`,
    );
    t.equal((await s.call('DELETE', `/stream/layers/${id}`)).status, 204);
  }
});

t.test('a chat layer without style gets the default style; wrapped messages push out whole older ones', async (t) => {
  const clock = new ManualClock(10_000);
  const s = await startServer({ WIDTH: '320', HEIGHT: '240', BACKGROUND: '#ffffff' }, { clock });
  t.teardown(() => s.close());
  const created = await s.call('POST', '/stream/layers', {
    id: 'chat',
    transform: { x: 0, y: 0 },
    content: { type: 'chat', maxMessages: 3, width: 320 },
  });
  t.equal(created.status, 201, JSON.stringify(created.body).slice(0, 200));
  t.same(created.body.content.style, DEFAULT_CHAT_STYLE, 'the default style is filled in and returned');
  for (let i = 0; i < 3; i++) await s.call('POST', '/stream/chat', { user: 'bob', text: `bid ${i}` });
  clock.set(10_100);
  // On a white canvas the default style's translucent black strips are dark bands.
  const dark = (rgb: number[]): boolean => Math.max(...rgb) < 160;
  let shot = await s.snapshot();
  let strips = bands(shot, 0, 240, dark);
  t.equal(strips.length, 3, `three message strips (${JSON.stringify(strips)})`);
  t.ok(
    strips[0]!.top >= 0 && new Set(strips.map((b) => b.bottom - b.top)).size === 1,
    `all the same height, the oldest whole (${strips.map((b) => b.bottom - b.top).join(', ')})`,
  );
  t.ok(
    strips.every((b) => bands(shot, b.top, b.bottom, (rgb) => Math.min(...rgb) > 230 && shot.at(0, b.top)[0] < 160).length > 0),
    'each strip has white text in it',
  );

  // A message that wraps to two lines takes two rows: the oldest no longer fits and is left out, not cut.
  await s.call('POST', '/stream/chat', { user: 'bob', text: 'a bid that wraps onto a second line' });
  clock.set(10_200);
  shot = await s.snapshot();
  strips = bands(shot, 0, 240, dark);
  const heights = strips.map((b) => b.bottom - b.top);
  t.equal(strips.length, 2, `two strips: one short, one two-line (${JSON.stringify(strips)})`);
  t.ok(heights[1]! > heights[0]! * 1.4, `the newest strip is the taller (${heights.join(', ')})`);
  t.ok(strips[0]!.top > 0, 'nothing cut at the top of the box');
});

t.test('text without style.font is drawn in the bundled sans; PATCH merges keep and restore it', async (t) => {
  const s = await startServer({ WIDTH: '320', HEIGHT: '240' });
  t.teardown(() => s.close());
  const text = (id: string, y: number, style: Record<string, unknown>) => ({
    id,
    transform: { x: 10, y },
    content: { type: 'text', content: 'Bid 1.5 ETH', style: { fontSize: 24, color: '#ffffff', ...style } },
  });
  const plain = await s.call('POST', '/stream/layers', text('plain', 0, {}));
  t.equal(plain.status, 201, JSON.stringify(plain.body).slice(0, 200));
  t.equal(plain.body.content.style.font, DEFAULT_FONT, 'the default font is filled in and returned');
  t.equal((await s.call('POST', '/stream/layers', text('arial', 80, { font: 'Arial' }))).status, 201);
  let shot = await s.snapshot();
  /** Pixels that differ by more than 8 in some channel between rows y..y+40 and 80 rows lower. */
  const differing = (): number => {
    let n = 0;
    for (let y = 0; y < 40; y++)
      for (let x = 0; x < 320; x++) if (shot.at(x, y).some((v, c) => Math.abs(v - shot.at(x, y + 80)[c]!) > 8)) n++;
    return n;
  };
  t.ok(bands(shot, 0, 40, ink).length === 1, 'the text without a font is drawn');
  t.equal(differing(), 0, 'pixel for pixel as with font "Arial" (the bundled Liberation Sans)');

  const bigger = await s.call('PATCH', '/stream/layers/arial', { content: { style: { fontSize: 30 } } });
  t.equal(bigger.status, 200);
  t.equal(bigger.body.content.style.font, 'Arial', 'a PATCH of another style field keeps the font');
  const reset = await s.call('PATCH', '/stream/layers/arial', { content: { style: { font: null, fontSize: 24 } } });
  t.equal(reset.status, 200);
  t.equal(reset.body.content.style.font, DEFAULT_FONT, 'a PATCH removing the font puts the default back');
  shot = await s.snapshot();
  t.equal(differing(), 0, 'and it draws as the other');
  const empty = await s.call('PATCH', '/stream/layers/arial', { content: { style: { font: '' } } });
  t.equal(empty.status, 400, 'an empty font name is still refused');
  t.equal(empty.body.error.code, 'SM_ERR_VALIDATION');
});

t.test('a stored document whose text and chat layers have no font or style loads whole', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'sm-fontdoc-'));
  t.teardown(() => rmSync(data, { recursive: true, force: true }));
  const env = { STATE_STORE: 'file', DATA_DIR: data };
  const s1 = await startServer(env);
  await s1.call('POST', '/stream/layers', {
    id: 'txt',
    content: { type: 'text', content: 'Hello', style: { font: 'Arial', fontSize: 24, color: '#ffffff' } },
  });
  await s1.call('POST', '/stream/layers', {
    id: 'chat',
    transform: { x: 0, y: 60 },
    content: { type: 'chat', maxMessages: 2, style: { font: 'Arial', fontSize: 20, color: '#ffffff' } },
  });
  await s1.call('PUT', '/stream/scenes/saved', {
    layers: [{ id: 'st', content: { type: 'text', content: 'Saved', style: { font: 'Arial', fontSize: 24, color: '#ffffff' } } }],
  });
  await s1.close();

  // As an older or hand-written document would have them: no font, and a chat layer without style.
  const file = join(data, 'state.json');
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const txt = doc.layers.find((l: { id: string }) => l.id === 'txt');
  const chat = doc.layers.find((l: { id: string }) => l.id === 'chat');
  t.ok(txt && chat && doc.scenes.scenes.saved, 'the document holds the layers and the saved scene');
  delete txt.content.style.font;
  delete chat.content.style;
  delete doc.scenes.scenes.saved[0].content.style.font;
  writeFileSync(file, JSON.stringify(doc));

  const s2 = await startServer(env);
  t.teardown(() => s2.close());
  t.equal((await s2.call('GET', '/health')).body.store.loadProblems.count, 0, 'no load problems');
  t.equal((await s2.call('GET', '/stream/layers/txt')).body.content.style.font, DEFAULT_FONT, 'the text layer has the default font');
  t.same((await s2.call('GET', '/stream/layers/chat')).body.content.style, DEFAULT_CHAT_STYLE, 'the chat layer the default style');
  const saved = await s2.call('GET', '/stream/scenes/saved');
  t.equal(saved.status, 200);
  t.equal(saved.body.layers[0].content.style.font, DEFAULT_FONT, 'the saved scene loaded too');
  t.ok(bands(await s2.snapshot(), 0, 40, ink).length > 0, 'the text is drawn');
  t.equal((await s2.call('PATCH', '/stream/layers/txt', { content: { content: 'Bye' } })).status, 200, 'and PATCHed');
});
