import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { AppError, ERRORS, type ErrorCode } from '../../shared/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { checkOffer, checkOfferType } from './sdp-offer.js';
import type { FromWhepWorker, ToWhepWorker, WhepChannelStats, WhepViewerStats, WhepWorkerData } from './whep-protocol.js';
import type { AccessUnit } from './ts-video.js';
import type { WhepIceSettings } from './whep-viewer.js';

/** The pictures kept per output for a worker that starts (as the worker's own cache, webrtc/whep-channel.ts). */
const GOP_MAX_FRAMES = 300;
const GOP_MAX_BYTES = 16 * 1024 * 1024;

export interface WhepServiceOptions {
  /** WEBRTC_MAX_VIEWERS: viewers of all webrtc outputs together. */
  maxViewers: number;
  ice: WhepIceSettings;
  log: Logger;
  metrics?: Metrics;
}

/**
 * A `webrtc` output's side on the main thread: its viewers as the worker last reported them
 * (counters refreshed each second, or by {@link WhepService.refresh}), and the way its frames go
 * to the worker.
 */
export class WhepChannelLink {
  /** Viewers by session id, with their counters. */
  readonly viewers = new Map<string, WhepViewerStats>();
  /**
   * The access units since the last keyframe (at most 300 or 16 MB), copied: a worker started by
   * the first offer gets them first, so the first viewer too starts on the current picture.
   */
  #gop: Extract<ToWhepWorker, { type: 'au' }>[] = [];
  #gopBytes = 0;
  /** Access units handed to the worker. */
  frames = 0;
  /** Payload bytes the worker sent to this output's viewers in all, and frames it skipped for lagging ones. */
  sentBytes = 0;
  droppedFrames = 0;

  constructor(
    readonly outputId: string,
    private readonly send: (m: ToWhepWorker, transfer?: ArrayBuffer[]) => void,
  ) {}

  /** One access unit of the encode, for every viewer (the bytes are copied to the worker). */
  push(au: AccessUnit): void {
    this.frames++;
    const m: Extract<ToWhepWorker, { type: 'au' }> = {
      type: 'au',
      outputId: this.outputId,
      data: new Uint8Array(au.data),
      pts90k: au.pts90k,
      key: au.key,
      at: performance.timeOrigin + performance.now(),
    };
    if (m.key) {
      this.#gop = [];
      this.#gopBytes = 0;
    }
    if (m.key || this.#gop.length > 0) {
      this.#gop.push(m);
      this.#gopBytes += m.data.length;
      if (this.#gop.length > GOP_MAX_FRAMES || this.#gopBytes > GOP_MAX_BYTES) {
        this.#gop = [];
        this.#gopBytes = 0;
      }
    }
    // A copy for the worker (transferred): the cached one stays here.
    const data = new Uint8Array(m.data);
    this.send({ ...m, data }, [data.buffer]);
  }

  /** A new encode starts: viewers wait for its first keyframe, their timestamps continue. */
  reset(): void {
    this.#gop = [];
    this.#gopBytes = 0;
    this.send({ type: 'reset', outputId: this.outputId });
  }

  /** The cached access units, to replay into a worker that has just started. */
  cached(): readonly Extract<ToWhepWorker, { type: 'au' }>[] {
    return this.#gop;
  }
}

/**
 * The WHEP sessions (draft-ietf-wish-whep) of every `webrtc` output. The peer connections live in
 * a worker thread (webrtc/whep-worker.ts, started by the first offer, so that a server without
 * WHEP viewers never loads the WebRTC stack, about a second of start-up CPU; and by the next
 * offer after one died): each packet's SRTP and the garbage of 20 viewers would otherwise take
 * the frame clock's thread (measured: GC pauses up to 100 ms). Here: the cap on viewers, the checks of an offer before the worker sees
 * it, a mirror of the viewers for answers and metrics. A session is opened by an SDP offer and
 * ends with `close` (the client's DELETE), its connection failing, or its output being removed.
 * A worker that dies takes its viewers with it (they reconnect); the next offer starts a new one.
 */
export class WhepService {
  readonly #o: WhepServiceOptions;
  readonly #channels = new Map<string, WhepChannelLink>();
  #worker: Worker | null = null;
  /** After `shutdown`: no worker is started again. */
  #shut = false;
  /** Sessions being negotiated: they count against the cap. */
  #opening = 0;
  #req = 0;
  readonly #pending = new Map<number, { resolve(m: FromWhepWorker): void; reject(e: Error): void }>();

  constructor(options: WhepServiceOptions) {
    this.#o = options;
  }

  /** Viewers of all outputs (answered, not closed). */
  get viewers(): number {
    let n = 0;
    for (const c of this.#channels.values()) n += c.viewers.size;
    return n;
  }

  /** The channel of a webrtc output, made on first use. */
  channel(outputId: string): WhepChannelLink {
    let c = this.#channels.get(outputId);
    if (!c) {
      c = new WhepChannelLink(outputId, (m, transfer) => this.#send(m, transfer));
      this.#channels.set(outputId, c);
      this.#o.metrics?.webrtcViewers.set({ output: outputId }, 0);
    }
    return c;
  }

  /** The output is gone: its viewers are closed and its channel forgotten. */
  drop(outputId: string): void {
    if (!this.#channels.delete(outputId)) return;
    this.#worker?.postMessage({ type: 'drop', outputId } satisfies ToWhepWorker);
    this.#o.metrics?.webrtcViewers.remove({ output: outputId });
  }

  /** Closes every viewer (the stream's pipeline closes). */
  closeAll(): void {
    this.#worker?.postMessage({ type: 'closeAll' } satisfies ToWhepWorker);
  }

  /** Closes every viewer and stops the worker. */
  async shutdown(): Promise<void> {
    this.#shut = true;
    const w = this.#worker;
    this.#worker = null;
    if (!w) return;
    w.postMessage({ type: 'closeAll' } satisfies ToWhepWorker);
    // A moment for the viewers' close to go out before the thread ends.
    await new Promise((r) => setTimeout(r, 50));
    await w.terminate();
  }

  /** Fetches the worker's counters now (the mirror is otherwise up to a second old). */
  async refresh(): Promise<void> {
    if (!this.#worker) return;
    await this.#ask({ type: 'stats', req: 0 });
  }

  /**
   * Answers an SDP offer for `outputId`'s channel: a new viewer, fed from the next frame. The cap
   * and the media type are checked before `readOffer` reads the body.
   * @returns the session id and the SDP answer
   * @throws AppError SM_ERR_WHEP_FULL when WEBRTC_MAX_VIEWERS watch already; SM_ERR_WHEP_NOT_SDP,
   *   SM_ERR_WHEP_CODEC for an offer that cannot be answered ({@link checkOffer})
   */
  async open(
    outputId: string,
    contentType: string | undefined,
    readOffer: () => Promise<string>,
  ): Promise<{ sessionId: string; answer: string }> {
    const max = this.#o.maxViewers;
    if (this.viewers + this.#opening >= max) {
      throw new AppError('SM_ERR_WHEP_FULL', `${max} WebRTC viewers are watching already (WEBRTC_MAX_VIEWERS); retry later`, { max });
    }
    checkOfferType(contentType);
    this.#opening++;
    let reply: FromWhepWorker;
    try {
      const offer = await readOffer();
      checkOffer(contentType, offer);
      reply = await this.#ask({ type: 'open', req: 0, outputId, offer });
    } finally {
      this.#opening--;
    }
    if (reply.type === 'refused') {
      const code = (reply.code in ERRORS ? reply.code : 'SM_ERR_WHEP_NOT_SDP') as ErrorCode;
      throw new AppError(code, reply.message);
    }
    if (reply.type !== 'opened') throw new Error(`unexpected WHEP worker reply ${reply.type}`);
    const channel = this.#channels.get(outputId);
    if (!channel) {
      this.#worker?.postMessage({ type: 'close', outputId, sessionId: reply.sessionId } satisfies ToWhepWorker);
      throw new AppError('SM_ERR_OUTPUT_NOT_FOUND', `No output has id "${outputId}"`);
    }
    channel.viewers.set(reply.sessionId, { id: reply.sessionId, sentFrames: 0, droppedFrames: 0, sendDelayMsSum: 0 });
    this.#o.metrics?.webrtcViewers.set({ output: outputId }, channel.viewers.size);
    this.#o.log.info({ output: outputId, viewer: reply.sessionId, viewers: this.viewers }, 'WHEP viewer answered');
    return { sessionId: reply.sessionId, answer: reply.answer };
  }

  /**
   * Ends a session (the WHEP client's DELETE).
   * @throws AppError SM_ERR_WHEP_NO_SESSION
   */
  close(outputId: string, sessionId: string): void {
    const channel = this.#channels.get(outputId);
    if (!channel?.viewers.has(sessionId)) throw new AppError('SM_ERR_WHEP_NO_SESSION');
    this.#closed(outputId, sessionId);
    this.#worker?.postMessage({ type: 'close', outputId, sessionId } satisfies ToWhepWorker);
  }

  /** Removes a viewer from the mirror. */
  #closed(outputId: string, sessionId: string): void {
    const channel = this.#channels.get(outputId);
    if (!channel?.viewers.delete(sessionId)) return;
    this.#o.metrics?.webrtcViewers.set({ output: outputId }, channel.viewers.size);
  }

  /** Frames and resets go to a running worker only: none runs before the first offer. */
  #send(m: ToWhepWorker, transfer?: ArrayBuffer[]): void {
    this.#worker?.postMessage(m, transfer);
  }

  /** Sends a request and waits for its reply (a fresh `req`). */
  #ask(m: Extract<ToWhepWorker, { req: number }>): Promise<FromWhepWorker> {
    if (this.#shut) return Promise.reject(new AppError('SM_ERR_WHEP_FULL', 'The server is stopping'));
    const req = ++this.#req;
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { resolve, reject });
      this.#start().postMessage({ ...m, req });
    });
  }

  /** The worker, started when there is none. */
  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./whep-worker.js', import.meta.url), {
      workerData: { ice: this.#o.ice } satisfies WhepWorkerData,
    });
    worker.unref();
    this.#worker = worker;
    worker.on('message', (m: FromWhepWorker) => this.#onMessage(m));
    // The pictures since each output's last keyframe, so that the first viewer starts on the current one.
    for (const c of this.#channels.values()) {
      for (const au of c.cached()) {
        const data = new Uint8Array(au.data);
        worker.postMessage({ ...au, data } satisfies ToWhepWorker, [data.buffer]);
      }
    }
    worker.on('error', (err) => this.#o.log.error({ err }, 'WHEP worker failed'));
    worker.on('exit', (code) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      this.#o.log.error({ code }, 'WHEP worker exited; its viewers are gone');
      for (const p of this.#pending.values()) p.reject(new AppError('SM_ERR_INTERNAL', 'The WebRTC worker exited'));
      this.#pending.clear();
      for (const c of this.#channels.values()) {
        c.viewers.clear();
        this.#o.metrics?.webrtcViewers.set({ output: c.outputId }, 0);
      }
    });
    return worker;
  }

  #onMessage(m: FromWhepWorker): void {
    switch (m.type) {
      case 'opened':
      case 'refused': {
        const p = this.#pending.get(m.req);
        this.#pending.delete(m.req);
        p?.resolve(m);
        break;
      }
      case 'closed':
        this.#closed(m.outputId, m.sessionId);
        break;
      case 'stats': {
        for (const s of m.channels) this.#apply(s);
        if (m.req !== undefined) {
          const p = this.#pending.get(m.req);
          this.#pending.delete(m.req);
          p?.resolve(m);
        }
        break;
      }
      case 'log':
        this.#o.log[m.level](m.obj, m.msg);
        break;
    }
  }

  /** A channel's counters from the worker: the mirror and the metrics follow. */
  #apply(s: WhepChannelStats): void {
    const c = this.#channels.get(s.outputId);
    if (!c) return;
    const labels = { output: s.outputId };
    if (s.sentBytes > c.sentBytes) this.#o.metrics?.webrtcSentBytes.inc(labels, s.sentBytes - c.sentBytes);
    if (s.droppedFrames > c.droppedFrames) this.#o.metrics?.webrtcDroppedFrames.inc(labels, s.droppedFrames - c.droppedFrames);
    c.sentBytes = s.sentBytes;
    c.droppedFrames = s.droppedFrames;
    for (const v of s.viewers) if (c.viewers.has(v.id)) c.viewers.set(v.id, v);
  }
}
