/**
 * The reader thread of one video source (a `worker_threads` Worker per source, started by
 * orchestrator/media/decoder-run.ts): for each decoder run it is asked to start, spawns ffmpeg,
 * reads its raw RGBA pictures from stdout and copies them into the run's frame ring
 * (media/frame-ring.ts), so that neither the decoding nor the byte shuffling runs on the main
 * thread. Files are paced by the main thread: when the ring is full, stdout is no longer read and
 * ffmpeg blocks (decode-ahead is bounded by the ring's slots). Live feeds never wait long: the
 * main thread is asked to release what it does not need, and a frame that still finds no room
 * within two frame intervals is dropped (counted), as are the next ones until there is room, so a
 * feed is always read at its own pace. Runs are independent (a looping file sought into its middle
 * has two at once); posts small messages only (media/reader-protocol.ts).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import {
  allocateRing,
  canWrite,
  END_CLEAN,
  END_FAILED,
  H_DROPPED,
  H_RELEASED,
  markEnd,
  publish,
  released,
  ringOf,
  waitRelease,
  type FrameRing,
} from './frame-ring.js';
import { StreamLog } from './ffmpeg-log.js';
import type { ReaderCommand, ReaderMessage, RunStart } from './reader-protocol.js';

/** Characters of ffmpeg's log kept for the exit message. */
const STDERR_TAIL = 4000;
/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every mainstream architecture). */
const CLOCK_TICKS = 100;

const port = parentPort!;
const post = (m: ReaderMessage): void => port.postMessage(m);

/** Runs going on, by id; each stops on its own. */
const runs = new Map<number, () => void>();
let closing = false;

port.on('message', (c: ReaderCommand) => {
  if (c.type === 'start') {
    if (!closing) runs.set(c.run, startRun(c));
  } else if (c.type === 'stop') runs.get(c.run)?.();
  else if (c.type === 'ping') post({ type: 'pong', run: 0, id: c.id });
  else {
    closing = true;
    for (const stop of runs.values()) stop();
    if (runs.size === 0) port.close();
  }
});

/** Starts decoder run `data.run`; returns its stop. */
function startRun(data: RunStart): () => void {
  const run = data.run;
  let stopping = false;
  let giveUp: string | null = null;
  let spawnError: string | null = null;
  let tail = '';
  const log = new StreamLog();
  let ring: FrameRing | null = null;
  let frames = 0;

  const proc = spawn(data.ffmpegPath, data.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid !== undefined) post({ type: 'spawned', run, pid: proc.pid });

  let formatKnown!: (r: FrameRing | null) => void;
  const format = new Promise<FrameRing | null>((resolve) => (formatKnown = resolve));

  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (text: string) => {
    tail = (tail + text).slice(-STDERR_TAIL);
    if (ring || log.done) return;
    if (!log.push(text)) return;
    const out = log.info.output!;
    try {
      const buffers = allocateRing(out.width, out.height);
      ring = ringOf(buffers);
      post({ type: 'format', run, ring: buffers, source: log.info.input });
      formatKnown(ring);
    } catch (err) {
      giveUp = (err as Error).message;
      proc.kill('SIGKILL');
      formatKnown(null);
    }
  });
  // Exited before saying its picture size (an unreadable input, a refused connection): nothing to read.
  proc.on('exit', () => formatKnown(ring));
  proc.on('error', (err) => {
    spawnError = `ffmpeg could not be started: ${err.message}`;
    formatKnown(null);
  });

  const cpuTimer = setInterval(() => {
    if (proc.pid === undefined || proc.exitCode !== null) return;
    readFile(`/proc/${proc.pid}/stat`, 'utf8').then(
      (stat) => {
        // Fields after the command name (which may hold spaces) in parentheses: utime and stime are fields 14 and 15.
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(f[11]) + Number(f[12]);
        if (Number.isFinite(ticks)) post({ type: 'cpu', run, seconds: ticks / CLOCK_TICKS });
      },
      () => undefined,
    );
  }, 1000);

  /** The last live frame found no room: the next ones are dropped at once until there is room again. */
  let dropping = false;

  /**
   * A slot to write frame `n` into once there is room, or null to drop it: a live feed's frame that
   * finds no room within two frame intervals (then, until room appears, at once, so the feed is
   * still read at its own pace and its connection never backs up).
   */
  const slotFor = async (r: FrameRing, n: number): Promise<Uint8Array | null> => {
    let asked = false;
    const deadline = performance.now() + 2 * data.frameMs;
    while (!canWrite(r, n)) {
      if (stopping) return null;
      if (data.live) {
        if (!asked && !dropping) post({ type: 'full', run });
        asked = true;
        const left = deadline - performance.now();
        if (dropping || left <= 0) {
          dropping = true;
          return null;
        }
        await waitRelease(r, released(r), left);
      } else await waitRelease(r, released(r), 1000);
    }
    dropping = false;
    return new Uint8Array(r.slots[n % r.slots.length]!);
  };

  /** Copies stdout into the ring, frame by frame, waiting for room between frames. */
  const pump = async (): Promise<void> => {
    const r = await format;
    if (!r) {
      // Drained, so that the process's pipes close and its exit is reported.
      proc.stdout.resume();
      return;
    }
    const frameBytes = r.width * r.height * 4;
    const scratch = new Uint8Array(frameBytes);
    let target: Uint8Array | null = null;
    let drop = false;
    let filled = 0;
    for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        if (target === null) {
          const slot = await slotFor(r, frames);
          if (stopping) return;
          drop = slot === null;
          target = slot ?? scratch;
        }
        const take = Math.min(chunk.length - off, frameBytes - filled);
        target.set(chunk.subarray(off, off + take), filled);
        off += take;
        filled += take;
        if (filled < frameBytes) continue;
        if (drop) Atomics.add(r.header, H_DROPPED, 1);
        else {
          publish(r, frames);
          if (++frames === 1) post({ type: 'firstFrame', run });
        }
        filled = 0;
        target = null;
      }
    }
  };

  const pumped = pump().catch((err: Error) => {
    giveUp ??= `reading the decoder's output failed: ${err.message}`;
    proc.kill('SIGKILL');
  });

  proc.on('close', (code, signal) => {
    void pumped.then(() => {
      clearInterval(cpuTimer);
      if (ring) markEnd(ring, code === 0 && giveUp === null ? END_CLEAN : END_FAILED);
      post({ type: 'exit', run, code, signal, frames, stderr: tail, error: spawnError ?? giveUp });
      runs.delete(run);
      if (closing && runs.size === 0) port.close();
    });
  });

  return () => {
    stopping = true;
    proc.kill('SIGKILL');
    // A writer waiting for room wakes up and sees it is stopping.
    if (ring) Atomics.notify(ring.header, H_RELEASED);
  };
}
