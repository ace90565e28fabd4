import type { Logger } from 'pino';
import type { OutputStatus } from '../../shared/output-status.js';
import { redactUrl, secretsOf, type OutputSpec, type OutputView } from '../../shared/outputs.js';
import type { EncoderSettings, StreamConfig } from '../../shared/stream-config.js';
import { encodeGroupKey, type EncodeGroups } from './group-encoder.js';
import { Muxer } from './muxer.js';
import { muxerArgs } from './muxer-args.js';
import type { OutputPolicy } from './output-path.js';
import { SupervisedOutput, type OutputEvent, type RestartPolicy } from './supervised-output.js';

export interface ExtraOutputOptions {
  ffmpegPath: string;
  /** HLS outputs write under `<dataDir>/hls/<id>/`. */
  dataDir: string;
  paths: OutputPolicy;
  /** The stream configuration now: canvas, rate and the config's encoder settings. */
  stream: () => StreamConfig;
  /** The shared encodes its muxer reads from. */
  groups: EncodeGroups;
  policy: RestartPolicy;
  log: Logger;
  /** Whether it should run now (the stream is live, it is enabled and still listed). */
  wanted: () => boolean;
  onChange: (event: OutputStatus & OutputEvent) => void;
  /** Called with its recording each time its muxer exits (unreadable ones are removed). */
  onFileExit: (path: string) => void;
}

/**
 * An extra output (`/stream/outputs`): one ffmpeg muxer that copies the shared encode of its
 * effective encoder settings into its destination (`-c copy`), supervised on its own.
 */
export class ExtraOutput {
  spec: OutputSpec;
  readonly sup: SupervisedOutput<Muxer>;
  /** The encode group its muxer reads, or null before its first start. */
  group: string | null = null;
  /** Where its latest start writes (a file, an HLS playlist's URL path), or null. */
  location: string | null = null;
  readonly #o: ExtraOutputOptions;

  constructor(spec: OutputSpec, options: ExtraOutputOptions) {
    this.spec = spec;
    this.#o = options;
    this.sup = new SupervisedOutput<Muxer>({
      id: spec.id,
      policy: options.policy,
      log: options.log,
      spawn: () => this.#spawn(),
      wanted: options.wanted,
      onChange: (event) => {
        const v = this.view();
        options.onChange({
          id: v.id,
          url: v.url,
          restarts: v.restarts,
          lastError: v.lastError,
          bytes: v.bytes,
          bitrateBps: v.bitrateBps,
          file: v.file,
          ...event,
        });
      },
    });
  }

  /** Its effective encoder settings: the config's, overridden by its own. */
  get encoder(): EncoderSettings {
    return { ...this.#o.stream().encoder, ...this.spec.encoder };
  }

  /** Its view in answers (URL redacted). */
  view(): OutputView {
    const muxer = this.sup.process;
    return {
      id: this.spec.id,
      kind: this.spec.kind,
      url: this.spec.url === null ? null : redactUrl(this.spec.url),
      enabled: this.spec.enabled,
      encoder: this.spec.encoder,
      encodeGroup: encodeGroupKey(this.encoder),
      state: this.sup.state,
      restarts: this.sup.restarts,
      lastError: this.sup.lastError,
      bytes: muxer?.bytes ?? 0,
      bitrateBps: muxer?.bitrateBps ?? null,
      location: this.location,
      file: this.spec.kind === 'file' ? this.location : null,
    };
  }

  /**
   * A muxer for one start, fed by its encode group.
   * @throws AppError SM_ERR_OUTPUT_URL (a symlink now leads out of RECORDINGS_DIR); Error when
   *   its file or folder cannot be created
   */
  #spawn(): Muxer {
    const { args, location } = muxerArgs(this.spec, this.#o);
    const s = this.#o.stream();
    const encoder = this.encoder;
    const group = this.#o.groups.get({ width: s.width, height: s.height, targetFPS: s.targetFPS, encoder });
    this.location = location;
    const muxer = new Muxer(
      this.#o.ffmpegPath,
      args,
      this.#o.log.child({ component: 'muxer', output: this.spec.id }),
      secretsOf(this.spec.url ?? ''),
      encoder.latency,
    );
    this.group = encodeGroupKey(encoder);
    group.fanout.add(muxer);
    const file = this.spec.kind === 'file';
    void muxer.exited.then(() => {
      group.fanout.remove(muxer);
      if (location && file) this.#o.onFileExit(location);
    });
    return muxer;
  }
}
