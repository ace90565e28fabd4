/**
 * A layer's buffers (orchestrator/render/layer-slot.ts): a render never writes the front (a
 * failed render keeps it) nor a buffer that a frame not yet composited reads; buffers are reused
 * once their frames are composited, so one frame at a time needs two and PIPELINE_DEPTH frames in
 * the making need at most that many; a spare too small for a grown layer is dropped.
 */
import t from 'tap';
import { PIPELINE_DEPTH } from '../orchestrator/render/frame-composer.js';
import { newSlot, pixelsOf, renderTarget, swapFront, type LayerSlot, type Pixels } from '../orchestrator/render/layer-slot.js';

/** A successful render of `slot` for frame `seq`: into its target (or `grown`), then handed to frame `seq`. */
function render(slot: LayerSlot, seq: number, composited: number, grown?: Pixels): Pixels {
  const target = renderTarget(slot, composited);
  swapFront(slot, target, grown ?? target);
  slot.generation++;
  slot.front.readBy = seq;
  return target;
}

t.test('the first render writes the front; later ones a spare, never the front', async (t) => {
  const slot = newSlot();
  const first = slot.front;
  t.equal(render(slot, 1, 0), first, 'frame 1 draws into the front (no pixels yet)');
  const second = render(slot, 2, 0);
  t.not(second, first, 'frame 2 draws into a new spare while frame 1 may still composite');
  t.equal(slot.front, second, 'which becomes the front');
  t.same(slot.spares, [first], 'and the old front a spare');
  t.not(renderTarget(slot, 2), slot.front, 'with every frame composited, the front is still never the target');
});

t.test('one frame at a time reuses two buffers; frames in the making each keep theirs', async (t) => {
  const slot = newSlot();
  const seen = new Set<SharedArrayBuffer>();
  for (let seq = 1; seq <= 50; seq++) {
    render(slot, seq, seq - 1);
    seen.add(slot.front.buffer);
  }
  t.equal(seen.size, 2, 'composited before the next render: two buffers in 50 frames');

  const piped = newSlot();
  const used = new Set<SharedArrayBuffer>();
  const readers = new Map<number, SharedArrayBuffer>();
  let clash = 0;
  for (let seq = 1; seq <= 60; seq++) {
    // Frame seq renders once frame seq - PIPELINE_DEPTH is composited; the ones after may not be.
    const composited = Math.max(0, seq - PIPELINE_DEPTH);
    const target = renderTarget(piped, composited);
    for (let k = composited + 1; k < seq; k++) if (readers.get(k) === target.buffer) clash++;
    render(piped, seq, composited);
    readers.set(seq, piped.front.buffer);
    used.add(piped.front.buffer);
  }
  t.equal(clash, 0, 'no render wrote a buffer a frame not yet composited reads');
  t.equal(used.size, PIPELINE_DEPTH, `${PIPELINE_DEPTH} frames in the making: ${PIPELINE_DEPTH} buffers`);
});

t.test('a failed render changes nothing; a grown buffer replaces a spare too small', async (t) => {
  const slot = newSlot();
  render(slot, 1, 0);
  render(slot, 2, 1);
  const front = slot.front;
  const spare = renderTarget(slot, 2);
  // Failed: the target is written, never swapped in.
  t.equal(slot.front, front, 'a failed render keeps the front');
  t.equal(renderTarget(slot, 2), spare, 'and the same spare is tried next time');
  const grown = pixelsOf(new SharedArrayBuffer(spare.buffer.byteLength * 2));
  render(slot, 3, 2, grown);
  t.equal(slot.front, grown, 'the grown buffer is the front');
  t.notOk(slot.spares.includes(spare), 'the spare too small for it is dropped');
  t.same(slot.spares, [front], 'the old front is the only spare');
});
