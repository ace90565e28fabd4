import type { Logger } from 'pino';
import type { OutputStatus } from '../../shared/output-status.js';
import { redactUrl, secretsOf, type OutputSpec, type OutputView } from '../../shared/outputs.js';
import type { EncoderSettings, StreamConfig } from '../../shared/stream-config.js';
import { encodeGroupKey, type EncodeGroups } from './group-encoder.js';
import { Muxer } from './muxer.js';
import { muxerArgs } from './muxer-args.js';
import type { OutputPolicy } from './output-path.js';
import { SupervisedOutput, type OutputEvent, type RestartPolicy } from './supervised-output.js';
import { VIDEO_PID } from './ts-fanout.js';
import { WhepFeed } from '../webrtc/whep-feed.js';
import type { WhepService } from '../webrtc/whep-service.js';

/** What an extra output runs per start: an ffmpeg muxer, or (kind `webrtc`) the in-process feed of its WHEP viewers. */
export type ExtraProcess = Muxer | WhepFeed;

export interface ExtraOutputOptions {
  ffmpegPath: string;
  /** HLS outputs write under `<dataDir>/hls/<id>/`. */
  dataDir: string;
  paths: OutputPolicy;
  /** The stream configuration now: canvas, rate and the config's encoder settings. */
  stream: () => StreamConfig;
  /** The shared encodes its muxer reads from. */
  groups: EncodeGroups;
  /** WHEP viewers of `webrtc` outputs. */
  whep: WhepService;
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
 * effective encoder settings into its destination (`-c copy`), supervised on its own; for a
 * `webrtc` output, a {@link WhepFeed} that relays the shared encode's H.264 to its WHEP viewers.
 */
export class ExtraOutput {
  spec: OutputSpec;
  readonly sup: SupervisedOutput<ExtraProcess>;
  /** The encode group its muxer reads, or null before its first start. */
  group: string | null = null;
  /** Where its latest start writes (a file, an HLS playlist's URL path), or null. */
  location: string | null = null;
  readonly #o: ExtraOutputOptions;

  constructor(spec: OutputSpec, options: ExtraOutputOptions) {
    this.spec = spec;
    this.#o = options;
    this.sup = new SupervisedOutput<ExtraProcess>({
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

  /** Its effective encoder settings: the config's, overridden by its own; a `webrtc` output's latency is always `low`. */
  get encoder(): EncoderSettings {
    const e = { ...this.#o.stream().encoder, ...this.spec.encoder };
    return this.spec.kind === 'webrtc' ? { ...e, latency: 'low' } : e;
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
      location: this.spec.kind === 'webrtc' ? `/stream/whep/${this.spec.id}` : this.location,
      file: this.spec.kind === 'file' ? this.location : null,
      ...(this.spec.kind === 'webrtc' ? { viewers: this.#o.whep.channel(this.spec.id).viewers.size } : {}),
    };
  }

  /**
   * A muxer (or a `webrtc` output's feed) for one start, fed by its encode group.
   * @throws AppError SM_ERR_OUTPUT_URL (a symlink now leads out of RECORDINGS_DIR); Error when
   *   its file or folder cannot be created
   */
  #spawn(): ExtraProcess {
    const s = this.#o.stream();
    const encoder = this.encoder;
    if (this.spec.kind === 'webrtc') {
      const group = this.#o.groups.get({ width: s.width, height: s.height, targetFPS: s.targetFPS, encoder });
      const feed = new WhepFeed(this.#o.whep.channel(this.spec.id), VIDEO_PID);
      this.group = encodeGroupKey(encoder);
      group.fanout.add(feed);
      void feed.exited.then(() => group.fanout.remove(feed));
      return feed;
    }
    const { args, location } = muxerArgs(this.spec, this.#o);
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
