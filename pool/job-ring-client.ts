/**
 * A render worker's side of the job ring (pool/job-ring-layout.ts): between its Piscina tasks
 * (preview encodes), the worker waits on the ring's sequence word with `Atomics.waitAsync` (so
 * its event loop, and Piscina's messages, keep running), and when a job is published claims its
 * tasks one at a time with a compare-and-swap on the job's claim word, runs them (composites a
 * band, or draws a layer: pool/render-ring-codec.ts), and counts them done; the thread that
 * finishes a job's last task wakes the orchestrator. With `init.spinUs`, a worker that ran out of tasks polls the
 * sequence word that long before it waits, so a job that follows at once needs no wake-up.
 */
import { BroadcastChannel, receiveMessageOnPort, threadId, type MessagePort } from 'node:worker_threads';
import { compositeBand } from '../pixels/composite-band.js';
import {
  claimAt,
  decodeBand,
  doneAt,
  JOB_SLOTS,
  kindAt,
  MESSAGE_BYTES,
  messageAt,
  ownerAt,
  SEQ,
  slotWords,
  STOP,
  statusAt,
  writeResult,
  type JobRingInit,
  type RingMessage,
} from './job-ring-layout.js';
import { decodeRender, KIND_RENDERS, LayerDecoder, writeRenderResult } from './render-ring-codec.js';
import type { RenderResult, RenderTask } from './messages.js';
import { UnknownBufferError } from './pool-errors.js';

/**
 * Joins the ring described by `init`: announces itself, and from the orchestrator's answer on
 * (every buffer live) takes part in every job. Runs until the ring's STOP word is set.
 * @param render draws a layer (the worker's drawer); without it, jobs of renders fail here
 */
export function joinJobRing(init: JobRingInit, render?: (task: RenderTask) => Promise<RenderResult>): void {
  const control = new Int32Array(init.control);
  const words = slotWords(init.data);
  const bytes = new Uint8Array(init.data);
  const buffers = new Map<number, SharedArrayBuffer>();
  const encoder = new TextEncoder();
  const layers = new LayerDecoder();
  let ready = false;

  const channel = new BroadcastChannel(init.channel);
  // Node reads a BroadcastChannel synchronously too (docs: receiveMessageOnPort); @types/node says MessagePort only.
  const port = channel as unknown as MessagePort;
  const handle = (m: RingMessage): void => {
    const list = m.buffers ?? m.add;
    for (const [id, buffer] of list ?? []) buffers.set(id, buffer);
    for (const id of m.forget ?? []) buffers.delete(id);
    if (m.buffers) ready = true;
  };
  const bufferOf = (id: number): SharedArrayBuffer => {
    let buffer = buffers.get(id);
    // An announcement posted before the job may not have been dispatched yet: read it now.
    while (buffer === undefined) {
      const entry = receiveMessageOnPort(port) as { message: RingMessage } | undefined;
      if (entry === undefined) break;
      handle(entry.message);
      buffer = buffers.get(id);
    }
    if (buffer === undefined) throw new UnknownBufferError(id);
    return buffer;
  };

  /** True while {@link drain} runs (it may wait for a render); `again`: a job came meanwhile. */
  let draining = false;
  let again = false;

  /** Claims and runs tasks until no job has one left; one drain at a time. */
  const drain = (): void => {
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    void drainAll();
  };

  /**
   * Clears `draining` in the same synchronous step in which it finds nothing left (not in a later
   * microtask): a job published between that step and the clearing would set `again` after the
   * last look at it, and wait, unclaimed, for its timeout.
   */
  const drainAll = async (): Promise<void> => {
    try {
      for (let claimed = true; claimed || again;) {
        claimed = false;
        again = false;
        for (let j = 0; j < JOB_SLOTS; j++) {
          const at = claimAt(j);
          for (;;) {
            const w = Atomics.load(control, at);
            const next = w & 0xff;
            const count = (w >>> 8) & 0xff;
            if (next >= count) break;
            if (Atomics.compareExchange(control, at, w, w + 1) !== w) continue;
            claimed = true;
            Atomics.store(control, ownerAt(j, next), threadId);
            if (Atomics.load(control, kindAt(j)) === KIND_RENDERS) await runRender(j, next, count);
            else runBand(j, next, count);
          }
        }
      }
    } finally {
      draining = false;
    }
  };

  /** Marks task `i` of slot `j` (of `count`) finished with `status` (1 done, 2 failed). */
  const finish = (j: number, i: number, count: number, status: number): void => {
    Atomics.store(control, statusAt(j, i), status);
    if (Atomics.add(control, doneAt(j), 1) + 1 === count) Atomics.notify(control, doneAt(j));
  };

  const runBand = (j: number, i: number, count: number): void => {
    let status = 1;
    try {
      const result = compositeBand(decodeBand(words, j, i, bufferOf));
      writeResult(words, j, i, result.runMs, result.convertMs);
    } catch (err) {
      status = 2;
      const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const out = bytes.subarray(messageAt(j), messageAt(j) + MESSAGE_BYTES);
      out.fill(0);
      encoder.encodeInto(text, out);
    }
    finish(j, i, count, status);
  };

  /** Draws render `i` of slot `j`; a layer that throws gets an `error` result, as in a render batch. */
  const runRender = async (j: number, i: number, count: number): Promise<void> => {
    const started = performance.now();
    try {
      if (!render) throw new Error('this worker joined the ring without a drawer');
      writeRenderResult(words, bytes, j, i, await render(decodeRender(words, bytes, j, i, bufferOf, layers.decode)), encoder);
    } catch (err) {
      writeRenderResult(
        words,
        bytes,
        j,
        i,
        { status: 'error', message: err instanceof Error ? err.message : String(err), runMs: performance.now() - started },
        encoder,
      );
    }
    finish(j, i, count, 1);
  };

  channel.onmessage = (event: unknown) => {
    handle((event as { data: RingMessage }).data);
    if (ready) drain();
  };
  channel.unref();
  channel.postMessage({ hello: threadId } satisfies RingMessage);

  void (async () => {
    while (Atomics.load(control, STOP) === 0) {
      const seen = Atomics.load(control, SEQ);
      if (ready) drain();
      // Poll a while before sleeping (init.spinUs); not while a render awaits, whose drain goes on.
      if (init.spinUs > 0 && !draining) {
        const end = performance.now() + init.spinUs / 1000;
        while (Atomics.load(control, SEQ) === seen && performance.now() < end);
      }
      const wait = Atomics.waitAsync(control, SEQ, seen);
      if (wait.async) await wait.value;
    }
    channel.close();
  })();
}
