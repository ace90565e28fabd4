import { EventEmitter } from 'node:events';
import type { ProgramAudioReader } from './audio-feed.js';
import type { Logger } from 'pino';
import { AppError } from '../../shared/errors.js';
import { LIMITS } from '../../shared/limits.js';
import type { OutputStatus } from '../../shared/output-status.js';
import {
  OutputCreateSchema,
  OutputPatchSchema,
  OutputSpecSchema,
  redactUrl,
  type OutputSpec,
  type OutputView,
} from '../../shared/outputs.js';
import type { StreamConfig } from '../../shared/stream-config.js';
import type { RenderPool } from '../../pool/render-pool.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Frame, FramePool } from '../render/frame-pool.js';
import type { FrameSink } from '../render/frame-sink.js';
import { EncodeGroups, encodeGroupKey, GROUP_MAX_QUEUED_FRAMES } from './group-encoder.js';
import { ExtraOutput } from './extra-output.js';
import { MainOutput } from './main-output.js';
import type { OutputPolicy } from './output-path.js';
import { PreviewEncoder, type PreviewSettings } from './preview-encoder.js';
import { ffprobeFor, RecordingJanitor } from './recording-check.js';
import type { OutputEvent, RestartPolicy } from './supervised-output.js';
import { WhepService } from '../webrtc/whep-service.js';
import type { WhepIceSettings } from '../webrtc/whep-viewer.js';

/** How often outputs are looked at for progress and stalls, ms. */
const WATCHDOG_MS = 500;
/**
 * Frame buffers the extra outputs' shared encoders may hold (up to 3 each, for up to 4 encode
 * groups). The pool allocates lazily, so these cost memory only while encoders lag.
 */
export const OUTPUT_FRAMES = GROUP_MAX_QUEUED_FRAMES * 4;

export interface OutputHubOptions {
  ffmpegPath: string;
  /** HLS outputs write under `<dataDir>/hls/<id>/`. */
  dataDir: string;
  /** Where file outputs may be written (RECORDINGS_DIR, OUTPUT_DIRS); checked at every entry and before each start. */
  paths: OutputPolicy;
  /** The stream configuration now: canvas, rate, the config's encoder settings and the main output's URL. */
  stream: () => StreamConfig;
  pool: () => FramePool;
  /** How a dead or stalled ffmpeg is restarted while live. */
  policy: RestartPolicy;
  /** The root logger (each part logs under its own `component`). */
  log: Logger;
  metrics?: Metrics;
  /** Dashboard previews: encoded on the render pool, with these settings. */
  preview: { pool: RenderPool; settings: PreviewSettings };
  /** WHEP viewers of `webrtc` outputs: the most at once (all outputs together), and their ICE settings. */
  webrtc: { maxViewers: number; ice: WhepIceSettings };
  /** The main output was given up on (max retries): the stream stops with this error. */
  onMainFailed: (message: string) => void;
  /** The program audio every encoder's track carries (with `audio: silent`); absent: a silent track. */
  audio?: ProgramAudioReader | undefined;
}

/**
 * Every output of the stream, supervised alike (output/supervised-output.ts): `main`, the
 * config's own (output/main-output.ts), and the extra ones (`/stream/outputs`). Each extra
 * output is one ffmpeg muxer that copies a shared encode into its destination; extra outputs
 * with equal effective encoder settings share one `GroupEncoder`. Each output restarts on its
 * own (a dead destination reconnects with the restart policy's backoff while the others keep
 * streaming), so adding, removing or losing one never touches the others. The hub is the
 * render side's {@link FrameSink}: every frame goes to the main encoder, the shared encoders and
 * the preview. Emits `output` on every state change (URLs redacted) and `specs` when the set of
 * extra outputs or their settings changed (to be persisted).
 */
export class OutputHub extends EventEmitter<{ output: [OutputStatus & OutputEvent]; specs: [OutputSpec[]] }> implements FrameSink {
  readonly #o: OutputHubOptions;
  readonly #log: Logger;
  readonly #main: MainOutput;
  readonly #entries = new Map<string, ExtraOutput>();
  readonly #groups: EncodeGroups;
  /** Removes recordings an ffmpeg left unreadable when it exits. */
  readonly #janitor: RecordingJanitor;
  #live = false;
  #watchdog: NodeJS.Timeout | null = null;
  #nextId = 1;
  /** Turns composited frames into dashboard previews (its `sink`: where they go; null: none are made). */
  readonly preview: PreviewEncoder;
  /** The WHEP viewers of the `webrtc` outputs. */
  readonly whep: WhepService;

  constructor(options: OutputHubOptions) {
    super();
    this.#o = options;
    this.#log = options.log.child({ component: 'outputs' });
    const metrics = options.metrics;
    // A shared encode that died: its muxers lose their input and go through their own reconnects.
    this.#groups = new EncodeGroups(
      options.ffmpegPath,
      options.pool,
      this.#log,
      (key) => {
        for (const e of this.#entries.values()) if (e.group === key) e.sup.process?.kill();
      },
      options.audio,
    );
    this.preview = new PreviewEncoder(
      options.preview.pool,
      options.preview.settings,
      options.log.child({ component: 'preview' }),
      options.pool,
      () => options.stream().targetFPS,
    );
    this.whep = new WhepService({
      maxViewers: options.webrtc.maxViewers,
      ice: options.webrtc.ice,
      log: options.log.child({ component: 'whep' }),
      metrics,
    });
    this.#janitor = new RecordingJanitor(ffprobeFor(options.ffmpegPath), options.log.child({ component: 'recordings' }), () =>
      metrics?.recordingsRemoved.inc(),
    );
    this.#main = new MainOutput({
      ffmpegPath: options.ffmpegPath,
      stream: options.stream,
      paths: options.paths,
      pool: options.pool,
      policy: options.policy,
      log: options.log.child({ component: 'encoder' }),
      metrics,
      onFileExit: (path) => void this.#janitor.afterExit(path),
      onChange: (e) => this.emit('output', e),
      onFailed: options.onMainFailed,
      audio: options.audio,
    });
  }

  /** The main output is up and takes frames. */
  get ready(): boolean {
    return this.#main.encoder?.running ?? false;
  }

  /** Frames the main encoder has not read yet (0 while down). */
  get queued(): number {
    return this.#main.encoder?.queued ?? 0;
  }

  /** The main encoder's load since the last call (Encoder.takeLoad); null while it is down. */
  takeMainLoad(): { readMs: number; peakQueued: number } | null {
    const encoder = this.#main.encoder;
    return encoder?.running ? encoder.takeLoad() : null;
  }

  /** True while at least one shared encoder runs (frames are wanted even while the main output is down). */
  get othersActive(): boolean {
    return this.#groups.running;
  }

  /** Where the main encoder writes (a network URL or a recording's absolute path), or null while it is down. */
  get mainOutput(): string | null {
    return this.#main.encoder?.output ?? null;
  }

  /** The main output was given up on (it stays so until the stream stops). */
  get mainFailed(): boolean {
    return this.#main.status().state === 'failed';
  }

  /** The main encoder's pid, or undefined. */
  get mainPid(): number | undefined {
    return this.#main.encoder?.pid;
  }

  /** Shared encoders running now (for tests and the bench: outputs with equal settings share one). */
  get encoders(): number {
    return this.#groups.size;
  }

  /** Process ids of the extra outputs' shared encoders and muxers (the bench measures their CPU). */
  pids(): number[] {
    const out = this.#groups.pids();
    for (const e of this.#entries.values()) if (e.sup.process?.pid) out.push(e.sup.process.pid);
    return out;
  }

  /** Every output's status: `main` first, then the extra ones; stream keys redacted. */
  statuses(): OutputStatus[] {
    return [this.#main.status(), ...this.list()];
  }

  /** The extra outputs as stored (URLs not redacted: for persistence only). */
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
        this.#log.error({ output: spec.id, reason: (err as Error).message }, 'stored output is invalid; skipped');
        skipped.push(spec.id);
      }
    }
    this.#reconcile();
    return skipped;
  }

  /** The extra outputs. */
  list(): OutputView[] {
    return [...this.#entries.values()].map((e) => e.view());
  }

  /** @throws AppError SM_ERR_OUTPUT_NOT_FOUND */
  get(id: string): OutputView {
    return this.#entry(id).view();
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
    if (this.#entries.size >= LIMITS.outputs)
      throw new AppError('SM_ERR_LIMIT_REACHED', `At most ${LIMITS.outputs} extra outputs`, { limit: 'outputs', max: LIMITS.outputs });
    const spec = parseOrThrow(OutputSpecSchema, { ...draft, id }, 'output');
    this.#o.paths.check(spec.url);
    const entry = this.#add(spec);
    this.emit('specs', this.specs());
    this.#reconcile();
    return entry.view();
  }

  #add(spec: OutputSpec): ExtraOutput {
    if (this.#entries.has(spec.id)) throw new AppError('SM_ERR_OUTPUT_EXISTS', `An output "${spec.id}" already exists`);
    const { ffmpegPath, dataDir, paths, stream, policy } = this.#o;
    const entry: ExtraOutput = new ExtraOutput(spec, {
      ffmpegPath,
      dataDir,
      paths,
      stream,
      policy,
      groups: this.#groups,
      whep: this.whep,
      log: this.#log,
      wanted: () => this.#live && entry.spec.enabled && this.#entries.get(entry.spec.id) === entry,
      onChange: (e) => this.emit('output', e),
      onFileExit: (path) => void this.#janitor.afterExit(path),
    });
    this.#entries.set(spec.id, entry);
    if (spec.kind === 'webrtc') this.whep.channel(spec.id);
    this.#log.info({ output: spec.id, kind: spec.kind, url: spec.url && redactUrl(spec.url) }, 'output added');
    return entry;
  }

  /**
   * Changes an output's url, enabled flag or encoder overrides; a running output restarts with them.
   * @throws AppError SM_ERR_OUTPUT_NOT_FOUND, SM_ERR_VALIDATION, SM_ERR_OUTPUT_URL
   */
  async patch(id: string, body: unknown): Promise<OutputView> {
    const entry = this.#entry(id);
    const patch = parseOrThrow(OutputPatchSchema, body, 'output patch');
    const spec = parseOrThrow(
      OutputSpecSchema,
      { ...entry.spec, ...patch, encoder: { ...entry.spec.encoder, ...patch.encoder } },
      'output',
    );
    this.#o.paths.check(spec.url);
    await entry.sup.stop();
    entry.spec = spec;
    this.emit('specs', this.specs());
    this.#reconcile();
    return entry.view();
  }

  /** Starts (`enabled: true`) or stops (`false`) one output; a stopped recording is a finished file. */
  setEnabled(id: string, enabled: boolean): Promise<OutputView> {
    return this.patch(id, { enabled });
  }

  /** @throws AppError SM_ERR_OUTPUT_NOT_FOUND */
  async remove(id: string): Promise<void> {
    const entry = this.#entry(id);
    await entry.sup.stop();
    this.#entries.delete(id);
    this.whep.drop(id);
    this.emit('specs', this.specs());
    this.#reconcile();
  }

  /**
   * Starts the main output's encoder, at a start of the stream (the extra outputs follow at {@link goLive}).
   * @throws AppError SM_ERR_ENCODER when ffmpeg cannot start; SM_ERR_OUTPUT_URL or a file system
   *   error when its recording cannot be claimed
   */
  async startMain(): Promise<void> {
    await this.#main.start();
    this.#watchdog ??= setInterval(() => this.#watch(), WATCHDOG_MS);
  }

  /** Writes the first frame to the main encoder ahead of the clock (see `MainOutput.prime`); returns the copies written. */
  prime(frame: Frame): Promise<number> {
    return this.#main.prime(frame);
  }

  /** The stream went live: start every enabled extra output. */
  goLive(): void {
    this.#live = true;
    this.#watchdog ??= setInterval(() => this.#watch(), WATCHDOG_MS);
    this.#reconcile();
  }

  /**
   * The stream stops: the main encoder and the shared encoders end (the muxers get the rest of
   * their stream), then every muxer (files are finalised).
   */
  async stopAll(): Promise<void> {
    this.#live = false;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
    await Promise.all([this.#main.stop(), this.#groups.endAll()]);
    await Promise.all([...this.#entries.values()].map((e) => e.sup.stop()));
  }

  /** Offers one frame to the main encoder and every shared encoder; true when the main one took it. */
  write(frame: Frame): boolean {
    const main = this.#main.encoder;
    const took = main?.running === true && main.write(frame);
    this.#groups.write(frame);
    return took;
  }

  /** A newly composited frame: the preview samples it. */
  made(frame: Frame, startedAt: number): void {
    this.preview.offer(frame, startedAt);
  }

  /**
   * A WHEP offer for the `webrtc` output `id` (`POST /stream/whep/:id`): a new viewer. The offer
   * is read (`readOffer`) only once the output, the viewer cap and the media type allow it.
   * @returns the session id and the SDP answer
   * @throws AppError SM_ERR_OUTPUT_NOT_FOUND (no such output, or not a webrtc one),
   *   SM_ERR_WHEP_OUTPUT_STOPPED (disabled), SM_ERR_WHEP_FULL, SM_ERR_WHEP_NOT_SDP, SM_ERR_WHEP_CODEC
   */
  openWhep(id: string, contentType: string | undefined, readOffer: () => Promise<string>): Promise<{ sessionId: string; answer: string }> {
    const e = this.#entries.get(id);
    if (!e || e.spec.kind !== 'webrtc') throw new AppError('SM_ERR_OUTPUT_NOT_FOUND', `No webrtc output has id "${id}"`);
    if (!e.spec.enabled)
      throw new AppError('SM_ERR_WHEP_OUTPUT_STOPPED', `The webrtc output "${id}" is stopped: POST /stream/outputs/${id}/start`);
    return this.whep.open(id, contentType, readOffer);
  }

  #entry(id: string): ExtraOutput {
    const e = this.#entries.get(id);
    if (!e) throw new AppError('SM_ERR_OUTPUT_NOT_FOUND', `No output has id "${id}"`);
    return e;
  }

  /** Starts what should run and ends shared encoders nobody uses. */
  #reconcile(): void {
    const wanted = new Set<string>();
    if (this.#live) {
      for (const e of this.#entries.values()) {
        if (!e.spec.enabled || e.sup.state === 'failed') continue;
        wanted.add(encodeGroupKey(e.encoder));
        e.sup.run();
      }
    }
    this.#groups.keep(wanted);
  }

  /** Each output: live when its progress flows; killed (and so restarted) when it stalls. */
  #watch(): void {
    this.#main.watch();
    for (const e of this.#entries.values()) e.sup.watch();
  }
}
