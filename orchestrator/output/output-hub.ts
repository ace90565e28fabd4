import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import type { OutputStatus } from '../../shared/output-status.js';
import { OutputCreateSchema, OutputPatchSchema, OutputSpecSchema, redactUrl, secretsOf, type OutputSpec, type OutputView } from '../../shared/outputs.js';
import type { EncoderSettings } from '../../shared/stream-config.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import { restartDelay, type OutputEvent, type OutputState, type RestartPolicy } from './encoder-supervisor.js';
import { GroupEncoder } from './group-encoder.js';
import { Muxer } from './muxer.js';
import { muxerArgs } from './muxer-args.js';
import type { OutputPolicy } from './output-path.js';

/** How often outputs are looked at for progress and stalls, ms. */
const WATCHDOG_MS = 500;

export interface OutputHubOptions {
  ffmpegPath: string;
  /** HLS outputs write under `<dataDir>/hls/<id>/`. */
  dataDir: string;
  /** Where file outputs may be written (RECORDINGS_DIR, OUTPUT_DIRS); checked at every entry and before each start. */
  paths: OutputPolicy;
  /** The canvas and the config's encoder settings of the next encode. */
  job: () => { width: number; height: number; fps: number; encoder: EncoderSettings };
  pool: () => FramePool;
  policy: RestartPolicy;
  log: Logger;
  /** Called with a file output's recording each time its muxer exits (unreadable ones are removed). */
  onFileExit?: (path: string) => void;
}

interface Entry {
  spec: OutputSpec;
  muxer: Muxer | null;
  group: string | null;
  state: OutputState;
  attempt: number;
  restarts: number;
  lastError: string | null;
  retry: NodeJS.Timeout | null;
  location: string | null;
}

/** Effective encoder settings of an output: the config's, overridden by its own. */
function effectiveEncoder(base: EncoderSettings, spec: OutputSpec): EncoderSettings {
  return { ...base, ...spec.encoder };
}

/**
 * The extra outputs (`/stream/outputs`): each is one ffmpeg muxer that copies a shared encode
 * into its destination. Outputs with equal effective encoder settings share one `GroupEncoder`;
 * each muxer is supervised on its own (a dead destination reconnects with the restart policy's
 * backoff while the others keep streaming), so adding, removing or losing one output never
 * touches the others. Emits `output` on every state change (URLs redacted) and `specs` when the
 * set of outputs or their settings changed (to be persisted).
 */
export class OutputHub extends EventEmitter<{ output: [OutputStatus & OutputEvent]; specs: [OutputSpec[]] }> {
  readonly #o: OutputHubOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #groups = new Map<string, GroupEncoder>();
  #live = false;
  #watchdog: NodeJS.Timeout | null = null;
  #nextId = 1;

  constructor(options: OutputHubOptions) {
    super();
    this.#o = options;
  }

  /** True while at least one shared encoder runs (the pipeline then has frames to make). */
  get active(): boolean {
    for (const g of this.#groups.values()) if (g.running) return true;
    return false;
  }

  /** Shared encoders running now (for tests and the bench: outputs with equal settings share one). */
  get encoders(): number {
    return this.#groups.size;
  }

  /** Process ids of the shared encoders and muxers (the bench measures their CPU). */
  pids(): number[] {
    const out: number[] = [];
    for (const g of this.#groups.values()) if (g.pid) out.push(g.pid);
    for (const e of this.#entries.values()) if (e.muxer?.pid) out.push(e.muxer.pid);
    return out;
  }

  /** The outputs as stored (URLs not redacted: for persistence only). */
  specs(): OutputSpec[] {
    return [...this.#entries.values()].map((e) => e.spec);
  }

  /** Puts back stored outputs (at boot); emits no `specs`. Invalid ones are skipped and returned. */
  restore(specs: OutputSpec[]): string[] {
    const skipped: string[] = [];
    for (const spec of specs) {
      try {
        const parsed = parseOrThrow(OutputSpecSchema, spec, 'output');
        this.#o.paths.check(parsed.url);
        this.#add(parsed);
      } catch (err) {
        this.#o.log.error({ output: spec.id, reason: (err as Error).message }, 'stored output is invalid; skipped');
        skipped.push(spec.id);
      }
    }
    this.#reconcile();
    return skipped;
  }

  list(): OutputView[] {
    return [...this.#entries.values()].map((e) => this.#view(e));
  }

  /** @throws AppError SM_ERR_OUTPUT_NOT_FOUND */
  get(id: string): OutputView {
    return this.#view(this.#entry(id));
  }

  /**
   * Adds an output; it starts at once when the stream is live and it is enabled.
   * @throws AppError SM_ERR_VALIDATION, SM_ERR_OUTPUT_EXISTS, SM_ERR_OUTPUT_URL (a file outside
   *   RECORDINGS_DIR and OUTPUT_DIRS)
   */
  create(body: unknown): OutputView {
    const draft = parseOrThrow(OutputCreateSchema, body, 'output');
    let id = draft.id;
    while (!id || (!draft.id && this.#entries.has(id))) id = `out-${this.#nextId++}`;
    if (this.#entries.has(id)) throw new AppError('SM_ERR_OUTPUT_EXISTS', `An output "${id}" already exists`);
    if (this.#entries.size >= LIMITS.outputs) throw new AppError('SM_ERR_LIMIT_REACHED', `At most ${LIMITS.outputs} extra outputs`, { limit: 'outputs', max: LIMITS.outputs });
    const spec = parseOrThrow(OutputSpecSchema, { ...draft, id }, 'output');
    this.#o.paths.check(spec.url);
    const entry = this.#add(spec);
    this.emit('specs', this.specs());
    this.#reconcile();
    return this.#view(entry);
  }

  #add(spec: OutputSpec): Entry {
    if (this.#entries.has(spec.id)) throw new AppError('SM_ERR_OUTPUT_EXISTS', `An output "${spec.id}" already exists`);
    const entry: Entry = { spec, muxer: null, group: null, state: 'stopped', attempt: 0, restarts: 0, lastError: null, retry: null, location: null };
    this.#entries.set(spec.id, entry);
    this.#o.log.info({ output: spec.id, kind: spec.kind, url: spec.url && redactUrl(spec.url) }, 'output added');
    return entry;
  }

  /**
   * Changes an output's url, enabled flag or encoder overrides; a running output restarts with them.
   * @throws AppError SM_ERR_OUTPUT_NOT_FOUND, SM_ERR_VALIDATION, SM_ERR_OUTPUT_URL
   */
  async patch(id: string, body: unknown): Promise<OutputView> {
    const entry = this.#entry(id);
    const patch = parseOrThrow(OutputPatchSchema, body, 'output patch');
    const spec = parseOrThrow(OutputSpecSchema, { ...entry.spec, ...patch, encoder: { ...entry.spec.encoder, ...patch.encoder } }, 'output');
    this.#o.paths.check(spec.url);
    await this.#stopEntry(entry);
    entry.spec = spec;
    this.emit('specs', this.specs());
    this.#reconcile();
    return this.#view(entry);
  }

  /** Starts (`enabled: true`) or stops (`false`) one output; a stopped recording is a finished file. */
  setEnabled(id: string, enabled: boolean): Promise<OutputView> {
    return this.patch(id, { enabled });
  }

  /** @throws AppError SM_ERR_OUTPUT_NOT_FOUND */
  async remove(id: string): Promise<void> {
    const entry = this.#entry(id);
    await this.#stopEntry(entry);
    this.#entries.delete(id);
    this.emit('specs', this.specs());
    this.#reconcile();
  }

  /** The stream went live: start every enabled output. */
  goLive(): void {
    this.#live = true;
    this.#watchdog ??= setInterval(() => this.#watch(), WATCHDOG_MS);
    this.#reconcile();
  }

  /** The stream stops: end the shared encoders (their muxers get the rest), then every muxer (files are finalised). */
  async stopAll(): Promise<void> {
    this.#live = false;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
    await Promise.all([...this.#groups.values()].map((g) => g.end()));
    this.#groups.clear();
    await Promise.all([...this.#entries.values()].map((e) => this.#stopEntry(e)));
  }

  /** Offers one composited frame to every shared encoder. */
  write(frame: Frame): void {
    for (const g of this.#groups.values()) g.write(frame);
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new AppError('SM_ERR_OUTPUT_NOT_FOUND', `No output has id "${id}"`);
    return e;
  }

  #view(e: Entry): OutputView {
    return {
      id: e.spec.id,
      kind: e.spec.kind,
      url: e.spec.url === null ? null : redactUrl(e.spec.url),
      enabled: e.spec.enabled,
      encoder: e.spec.encoder,
      encodeGroup: this.#groupKey(e.spec),
      state: e.state,
      restarts: e.restarts,
      lastError: e.lastError,
      bytes: e.muxer?.bytes ?? 0,
      bitrateBps: e.muxer?.bitrateBps ?? null,
      location: e.location,
      file: e.spec.kind === 'file' ? e.location : null,
    };
  }

  #groupKey(spec: OutputSpec): string {
    const enc = effectiveEncoder(this.#o.job().encoder, spec);
    return `${enc.preset}-${enc.bitrateKbps}k-gop${enc.keyframeIntervalSeconds}s-${enc.audio}`;
  }

  #set(e: Entry, state: OutputState, event: OutputEvent['event'], extra: Pick<OutputEvent, 'delayMs' | 'reason'> = {}): void {
    e.state = state;
    const v = this.#view(e);
    this.#o.log.info({ output: v.id, state, event, attempt: e.attempt, ...extra }, 'output state');
    this.emit('output', { id: v.id, url: v.url, state, restarts: v.restarts, lastError: v.lastError, bytes: v.bytes, bitrateBps: v.bitrateBps, file: v.file, event, attempt: e.attempt, ...extra });
  }

  /** Starts what should run and ends shared encoders nobody uses. */
  #reconcile(): void {
    const wanted = new Set<string>();
    if (this.#live) {
      for (const e of this.#entries.values()) {
        if (!e.spec.enabled || e.state === 'failed') continue;
        wanted.add(this.#groupKey(e.spec));
        if (!e.muxer && !e.retry) this.#spawn(e);
      }
    }
    for (const [key, g] of this.#groups) {
      if (!wanted.has(key)) {
        this.#groups.delete(key);
        void g.end();
      }
    }
  }

  #group(key: string, spec: OutputSpec): GroupEncoder {
    let g = this.#groups.get(key);
    if (g?.running) return g;
    const job = this.#o.job();
    g = new GroupEncoder(this.#o.ffmpegPath, { ...job, encoder: effectiveEncoder(job.encoder, spec) }, this.#o.pool(), this.#o.log.child({ component: 'shared-encoder', group: key }));
    this.#groups.set(key, g);
    const mine = g;
    void g.exited.then((reason) => {
      if (this.#groups.get(key) !== mine || reason === null) return;
      // The shared encode died: its muxers lose their input; they go through their own reconnects.
      this.#o.log.warn({ group: key, reason }, 'shared encoder exited');
      this.#groups.delete(key);
      for (const e of this.#entries.values()) if (e.group === key) e.muxer?.kill();
    });
    return g;
  }

  #spawn(e: Entry): void {
    let target: ReturnType<typeof muxerArgs>;
    try {
      target = muxerArgs(e.spec, this.#o);
    } catch (err) {
      // Not allowed (a symlink now leads out of RECORDINGS_DIR): nothing is spawned, the output
      // fails and says why. Not creatable (disk full): retried like a muxer that died.
      e.lastError = `cannot write the output: ${(err as Error).message}`;
      this.#o.log.error({ output: e.spec.id, reason: e.lastError }, 'output not started');
      if (err instanceof AppError) this.#set(e, 'failed', 'failed', { reason: e.lastError });
      else this.#retryLater(e);
      return;
    }
    const { args, location } = target;
    const key = this.#groupKey(e.spec);
    const group = this.#group(key, e.spec);
    e.location = location;
    const muxer = new Muxer(this.#o.ffmpegPath, args, this.#o.log.child({ component: 'muxer', output: e.spec.id }), secretsOf(e.spec.url ?? ''));
    e.muxer = muxer;
    e.group = key;
    group.fanout.add(muxer);
    if (e.attempt === 0) this.#set(e, 'connecting', 'connecting');
    void muxer.exited.then((exit) => {
      group.fanout.remove(muxer);
      if (location && e.spec.kind === 'file') this.#o.onFileExit?.(location);
      if (e.muxer !== muxer) return;
      e.muxer = null;
      if (!this.#live || !e.spec.enabled || !this.#entries.has(e.spec.id)) return;
      e.lastError = exit.message ?? 'muxer exited';
      this.#retryLater(e);
    });
  }

  /** Schedules the next start of an output that went down (`lastError` says why), or gives up on it. */
  #retryLater(e: Entry): void {
    e.attempt++;
    if (e.attempt > this.#o.policy.maxRetries) {
      this.#set(e, 'failed', 'failed', { reason: e.lastError ?? undefined });
      return;
    }
    const delayMs = restartDelay(this.#o.policy, e.attempt);
    this.#set(e, 'reconnecting', 'reconnecting', { delayMs, reason: e.lastError ?? undefined });
    e.retry = setTimeout(() => {
      e.retry = null;
      e.restarts++;
      this.#reconcile();
    }, delayMs);
  }

  /** Ends an output's muxer (a file gets its trailer) and cancels a scheduled retry. */
  async #stopEntry(e: Entry): Promise<void> {
    if (e.retry) clearTimeout(e.retry);
    e.retry = null;
    const m = e.muxer;
    e.muxer = null;
    e.attempt = 0;
    if (m) await m.end();
    if (e.state !== 'stopped') this.#set(e, 'stopped', 'stopped');
  }

  /** Live when bytes flow; killed (and so reconnected) when they stop for the policy's stall time. */
  #watch(): void {
    const now = performance.now();
    for (const e of this.#entries.values()) {
      const m = e.muxer;
      if (!m || !m.running) continue;
      if (m.flowing && (e.state === 'connecting' || e.state === 'reconnecting')) {
        const again = e.state === 'reconnecting';
        e.attempt = 0;
        this.#set(e, 'live', again ? 'reconnected' : 'live');
      } else if (now - m.lastProgressAt > this.#o.policy.stallMs) {
        e.lastError = `no bytes written for ${this.#o.policy.stallMs} ms`;
        m.kill();
      }
    }
  }
}
