import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OutputStateSchema } from '../../shared/output-status.js';

/** Prefix of every Stream Manager metric (Prometheus naming: snake_case, base units). */
export const PREFIX = 'stream_manager_';

/** Buckets for per-frame stage times, seconds: 0.5 ms .. 1 s (a frame at 30 fps is 33 ms). */
const FRAME_BUCKETS = [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.033, 0.066, 0.1, 0.25, 0.5, 1];
/** Buckets for HTTP requests, seconds. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** prom-client default metrics that break the `_total` naming rule. */
const DEFAULT_GAUGES_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Values read at scrape time from the running parts. */
export interface MetricSources {
  pool?: () => { threads: number; utilization: number; busySeconds: number; queueSize: number };
  pipeline?: () => { fps: number; targetFPS: number; isLive: boolean; output: string | null };
  ws?: () => Record<string, number>;
  /** Bytes queued in `ws` for all sockets together. */
  wsBuffered?: () => number;
  store?: () => { connected: boolean };
  outputs?: () => { id: string; state: string; restarts: number; bytes: number; bitrateBps: number | null }[];
  /** Folders whose free disk space is reported, by label (`data`: DATA_DIR, `recordings`: RECORDINGS_DIR). */
  dirs?: () => Record<string, string>;
  /** Audio mixer threads started to replace one that died (issue 30). */
  audioMixerRestarts?: () => number;
  /** Seconds of program audio the encoders read before the mixer had made them (read as silence). */
  audioUnderrunSeconds?: () => number;
  /** The program audio's last meters (issue 30): the master bus and each source by layer id, dBFS; null: none yet. */
  audio?: () => { master: { peakDb: number; rmsDb: number }; sources: Record<string, { peakDb: number; rmsDb: number }> } | null;
}

/**
 * Bytes free to unprivileged users (statfs `bavail` x `bsize`, what `df` calls Avail) on the
 * filesystem of `dir`, or of its deepest existing ancestor when it does not exist yet; null when
 * statfs fails. Called at scrape time only (one statfs per folder), never on the frame path.
 */
export async function diskFreeBytes(dir: string): Promise<number | null> {
  for (let p = resolve(dir); ; p = dirname(p)) {
    try {
      const s = await statfs(p);
      return s.bavail * s.bsize;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) return null;
    }
  }
}

/**
 * Every metric of one app instance, in a registry of its own (never prom-client's global one, so
 * two apps in one process, as in tests, do not collide). Hot paths increment counters directly;
 * gauges of the pool, pipeline, WebSocket and store are read at scrape time from `sources`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly sources: MetricSources = {};

  // Pool
  readonly poolTaskWait: Histogram<'task'>;
  readonly poolTaskRun: Histogram<'task'>;
  readonly poolTasks: Counter<'task' | 'result'>;
  readonly workerRestarts: Counter;
  // Pipeline
  readonly framesRendered: Counter;
  readonly framesDelivered: Counter;
  readonly framesDropped: Counter<'reason'>;
  readonly frameTime: Histogram<'stage'>;
  readonly layerRender: Histogram<'type'>;
  readonly layersRendered: Counter;
  readonly layerFailures: Counter<'type' | 'reason'>;
  readonly layersReused: Counter;
  // Encoder
  readonly encoderStarts: Counter;
  readonly encoderRestarts: Counter;
  readonly encoderInputBytes: Counter;
  readonly encoderOutputBytes: Gauge;
  readonly encoderSpeed: Gauge;
  readonly encoderBitrate: Gauge;
  // Video sources
  readonly sourceFramesDecoded: Counter<'layer'>;
  readonly sourceFramesRepeated: Counter<'layer'>;
  readonly sourceFramesDropped: Counter<'layer'>;
  readonly sourceCpu: Counter<'layer'>;
  readonly sourceState: Gauge<'layer' | 'state'>;
  // WebSocket
  readonly wsMessages: Counter<'type'>;
  readonly wsPreviewSkipped: Counter;
  readonly wsRateLimited: Counter;
  // Security
  readonly authFailures: Counter<'transport'>;
  // HTTP
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  // State store
  readonly storeOps: Counter<'op'>;
  readonly storeFailures: Counter<'op'>;
  // Disk
  readonly recordingsRemoved: Counter;
  // WebRTC (WHEP) viewers
  readonly webrtcViewers: Gauge<'output'>;
  readonly webrtcSentBytes: Counter<'output'>;
  readonly webrtcDroppedFrames: Counter<'output'>;

  constructor() {
    const registers = [this.registry];
    const src = this.sources;
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges `_total`, which Prometheus reserves for counters (promtool
    // flags them); `nodejs_active_handles` etc. carry the same counts by type.
    for (const name of DEFAULT_GAUGES_NAMED_TOTAL) this.registry.removeSingleMetric(name);

    new Gauge({
      name: `${PREFIX}pool_threads`,
      help: 'Render worker threads',
      registers,
      collect() {
        this.set(src.pool?.().threads ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}pool_utilization_ratio`,
      help: "Workers' busy share over the last second or more: time on tasks (job ring jobs and preview encodes) / (wall time x threads), 0..1",
      registers,
      collect() {
        this.set(src.pool?.().utilization ?? 0);
      },
    });
    new Counter({
      name: `${PREFIX}pool_busy_seconds_total`,
      help: 'Time the render workers spent on tasks (job ring jobs and preview encodes), all threads together; rate() / pool_threads is the utilisation',
      registers,
      collect() {
        this.reset();
        this.inc(src.pool?.().busySeconds ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}pool_queue_size`,
      help: 'Jobs waiting for a job ring slot, a free worker or the threads to start',
      registers,
      collect() {
        this.set(src.pool?.().queueSize ?? 0);
      },
    });
    this.poolTaskWait = new Histogram({
      name: `${PREFIX}pool_task_wait_seconds`,
      help: 'Time a task waited in the queue and in transit',
      labelNames: ['task'],
      buckets: FRAME_BUCKETS,
      registers,
    });
    this.poolTaskRun = new Histogram({
      name: `${PREFIX}pool_task_run_seconds`,
      help: 'Time a task ran in a worker',
      labelNames: ['task'],
      buckets: FRAME_BUCKETS,
      registers,
    });
    this.poolTasks = new Counter({
      name: `${PREFIX}pool_tasks_total`,
      help: 'Tasks finished, by task and result (completed|failed|timeout|rejected: queue full)',
      labelNames: ['task', 'result'],
      registers,
    });
    this.workerRestarts = new Counter({
      name: `${PREFIX}pool_worker_restarts_total`,
      help: 'Worker threads started to replace one that died',
      registers,
    });

    this.framesRendered = new Counter({ name: `${PREFIX}frames_rendered_total`, help: 'Frames rendered and composited', registers });
    this.framesDelivered = new Counter({
      name: `${PREFIX}frames_delivered_total`,
      help: 'Frames written to the encoder (new, held or repeated)',
      registers,
    });
    this.framesDropped = new Counter({
      name: `${PREFIX}frames_dropped_total`,
      help: 'Frame intervals without a new frame, by reason',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['render_late', 'render_queue_full', 'encoder_backpressure', 'error']) this.framesDropped.inc({ reason }, 0);
    new Gauge({
      name: `${PREFIX}target_fps`,
      help: 'Target frames per second',
      registers,
      collect() {
        this.set(src.pipeline?.().targetFPS ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}fps`,
      help: 'Measured frames per second over the last second',
      registers,
      collect() {
        this.set(src.pipeline?.().fps ?? 0);
      },
    });
    new Gauge({
      name: `${PREFIX}live`,
      help: '1 while the stream is live',
      registers,
      collect() {
        this.set(src.pipeline?.().isLive ? 1 : 0);
      },
    });
    this.frameTime = new Histogram({
      name: `${PREFIX}frame_stage_seconds`,
      help: 'Time per frame by stage (render, composite, encode_write)',
      labelNames: ['stage'],
      buckets: FRAME_BUCKETS,
      registers,
    });
    this.layerRender = new Histogram({
      name: `${PREFIX}layer_render_seconds`,
      help: 'Worker time to render one layer, by layer type',
      labelNames: ['type'],
      buckets: FRAME_BUCKETS,
      registers,
    });
    this.layersRendered = new Counter({
      name: `${PREFIX}layers_rendered_total`,
      help: 'Layer renders (content changed or animated)',
      registers,
    });
    this.layerFailures = new Counter({
      name: `${PREFIX}layer_render_failures_total`,
      help: 'Layer renders that failed, by layer type and reason (error: threw or its worker died, timeout, overrun: took longer than its render budget, memory); the last good pixels were shown',
      labelNames: ['type', 'reason'],
      registers,
    });
    this.layersReused = new Counter({
      name: `${PREFIX}layers_reused_total`,
      help: 'Layers composited from their last pixels without a render',
      registers,
    });

    this.encoderStarts = new Counter({ name: `${PREFIX}encoder_starts_total`, help: 'ffmpeg processes started', registers });
    this.encoderRestarts = new Counter({
      name: `${PREFIX}encoder_restarts_total`,
      help: 'ffmpeg restarts while live (config change or failure)',
      registers,
    });
    this.encoderInputBytes = new Counter({
      name: `${PREFIX}encoder_input_bytes_total`,
      help: 'Raw frame bytes written to ffmpeg',
      registers,
    });
    this.encoderOutputBytes = new Gauge({
      name: `${PREFIX}encoder_output_bytes`,
      help: 'Bytes the current ffmpeg has written (its -progress total_size)',
      registers,
    });
    this.encoderSpeed = new Gauge({
      name: `${PREFIX}encoder_speed_ratio`,
      help: "ffmpeg's encoding speed relative to real time (-progress speed)",
      registers,
    });
    this.encoderBitrate = new Gauge({
      name: `${PREFIX}encoder_output_bytes_per_second`,
      help: 'Output rate reported by ffmpeg (-progress bitrate / 8; x 8 for bits per second)',
      registers,
    });
    new Gauge({
      name: `${PREFIX}output_state`,
      help: "1 for each output's current state (connecting|live|reconnecting|failed|stopped), by output id; no URLs in labels",
      labelNames: ['output', 'state'],
      registers,
      collect() {
        this.reset();
        for (const o of src.outputs?.() ?? [])
          for (const state of OutputStateSchema.options) this.set({ output: o.id, state }, o.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: `${PREFIX}output_restarts`,
      help: 'Reconnects/restarts of each output in the current live session',
      labelNames: ['output'],
      registers,
      collect() {
        this.reset();
        for (const o of src.outputs?.() ?? []) this.set({ output: o.id }, o.restarts);
      },
    });
    new Gauge({
      name: `${PREFIX}output_bytes`,
      help: "Bytes the output's current ffmpeg has written (its -progress total_size; for HLS, which reports none, the bytes passed to it), by output id",
      labelNames: ['output'],
      registers,
      collect() {
        this.reset();
        for (const o of src.outputs?.() ?? []) this.set({ output: o.id }, o.bytes);
      },
    });
    new Gauge({
      name: `${PREFIX}output_bytes_per_second`,
      help: 'Output rate as ffmpeg reports it (bitrate / 8; for HLS, bytes passed on over media time written), by output id (absent before its first report)',
      labelNames: ['output'],
      registers,
      collect() {
        this.reset();
        for (const o of src.outputs?.() ?? []) if (o.bitrateBps !== null) this.set({ output: o.id }, o.bitrateBps / 8);
      },
    });
    new Gauge({
      name: `${PREFIX}output_up`,
      help: '1 while the output is being written, by output kind (rtmp|file); no URLs in labels',
      labelNames: ['kind'],
      registers,
      collect() {
        const p = src.pipeline?.();
        const kind = p?.output && /^rtmps?:/i.test(p.output) ? 'rtmp' : 'file';
        this.reset();
        this.set({ kind }, p?.output ? 1 : 0);
      },
    });

    new Gauge({
      name: `${PREFIX}ws_clients`,
      help: 'WebSocket clients by channel',
      labelNames: ['channel'],
      registers,
      collect() {
        for (const [channel, n] of Object.entries(src.ws?.() ?? {})) this.set({ channel }, n);
      },
    });
    new Gauge({
      name: `${PREFIX}ws_buffered_bytes`,
      help: 'Bytes queued for WebSocket clients, all together (bounded by the congestion threshold per client)',
      registers,
      collect() {
        this.set(src.wsBuffered?.() ?? 0);
      },
    });
    this.wsMessages = new Counter({
      name: `${PREFIX}ws_messages_sent_total`,
      help: 'WebSocket messages sent, by type',
      labelNames: ['type'],
      registers,
    });
    this.wsPreviewSkipped = new Counter({
      name: `${PREFIX}ws_preview_frames_skipped_total`,
      help: 'Preview frames not sent to a congested client',
      registers,
    });
    this.wsRateLimited = new Counter({
      name: `${PREFIX}ws_messages_rate_limited_total`,
      help: 'Client WebSocket messages ignored for exceeding WS_MESSAGE_RATE',
      registers,
    });
    this.authFailures = new Counter({
      name: `${PREFIX}auth_failures_total`,
      help: 'Requests and upgrades refused for a missing or wrong token (http|ws)',
      labelNames: ['transport'],
      registers,
    });

    this.httpDuration = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests by route template, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });

    this.storeOps = new Counter({
      name: `${PREFIX}store_operations_total`,
      help: 'State store operations (save|load|metrics)',
      labelNames: ['op'],
      registers,
    });
    this.storeFailures = new Counter({
      name: `${PREFIX}store_failures_total`,
      help: 'Failed state store operations',
      labelNames: ['op'],
      registers,
    });
    new Gauge({
      name: `${PREFIX}store_connected`,
      help: '1 while the state store is reachable',
      registers,
      collect() {
        this.set(src.store?.().connected ? 1 : 0);
      },
    });

    new Gauge({
      name: `${PREFIX}audio_level_dbfs`,
      help: 'Program audio meters over the last ~100 ms window, dBFS (-120: silence): source="master" (after its volume and the limiter) or a layer id (after its volume, mute and pan); kind="peak" or "rms"',
      labelNames: ['source', 'kind'],
      registers,
      collect() {
        const levels = src.audio?.();
        this.reset();
        if (!levels) return;
        for (const [source, l] of [['master', levels.master] as const, ...Object.entries(levels.sources)]) {
          this.set({ source, kind: 'peak' }, l.peakDb);
          this.set({ source, kind: 'rms' }, l.rmsDb);
        }
      },
    });

    new Counter({
      name: `${PREFIX}audio_mixer_restarts_total`,
      help: 'Audio mixer threads started to replace one that died (the program audio is silent meanwhile)',
      registers,
      collect() {
        this.reset();
        this.inc(src.audioMixerRestarts?.() ?? 0);
      },
    });

    new Counter({
      name: `${PREFIX}audio_underrun_seconds_total`,
      help: 'Program audio the encoders read before the mixer thread had made it, seconds: it went out as silence (a short gap in the sound); grows when the mixer lacks CPU',
      registers,
      collect() {
        this.reset();
        this.inc(src.audioUnderrunSeconds?.() ?? 0);
      },
    });

    new Gauge({
      name: `${PREFIX}disk_free_bytes`,
      help: 'Bytes free for the server on the filesystem of DATA_DIR (dir="data") and RECORDINGS_DIR (dir="recordings"), statfs at scrape time',
      labelNames: ['dir'],
      registers,
      async collect() {
        const dirs = Object.entries(src.dirs?.() ?? {});
        const free = await Promise.all(dirs.map(([, path]) => diskFreeBytes(path)));
        this.reset();
        dirs.forEach(([dir], i) => {
          if (free[i] !== null) this.set({ dir }, free[i]!);
        });
      },
    });
    this.recordingsRemoved = new Counter({
      name: `${PREFIX}recordings_removed_total`,
      help: 'Recordings removed because the ffmpeg that wrote them exited leaving them empty or unreadable (e.g. restarts on a full disk)',
      registers,
    });
    // Video sources (issue 29), one series per video layer, removed with the layer.
    this.sourceFramesDecoded = new Counter({
      name: `${PREFIX}source_frames_decoded_total`,
      help: "Pictures a video layer's decoder delivered at the program rate",
      labelNames: ['layer'],
      registers,
    });
    this.sourceFramesRepeated = new Counter({
      name: `${PREFIX}source_frames_repeated_total`,
      help: "Live program frames that showed a video layer's previous picture again (its next one was not decoded in time)",
      labelNames: ['layer'],
      registers,
    });
    this.sourceFramesDropped = new Counter({
      name: `${PREFIX}source_frames_dropped_total`,
      help: "A live feed's pictures that were decoded but never shown (a newer one won)",
      labelNames: ['layer'],
      registers,
    });
    this.sourceCpu = new Counter({
      name: `${PREFIX}source_cpu_seconds_total`,
      help: "CPU time (user + system) of video layers' decoders (ffmpeg)",
      labelNames: ['layer'],
      registers,
    });
    this.sourceState = new Gauge({
      name: `${PREFIX}source_state`,
      help: "A video layer's source state: 1 for the state it is in, 0 for the others",
      labelNames: ['layer', 'state'],
      registers,
    });
    this.webrtcViewers = new Gauge({
      name: `${PREFIX}webrtc_viewers`,
      help: 'WHEP viewers of each webrtc output (sessions answered and not closed)',
      labelNames: ['output'],
      registers,
    });
    this.webrtcSentBytes = new Counter({
      name: `${PREFIX}webrtc_sent_bytes_total`,
      help: 'RTP payload bytes sent to WHEP viewers, all viewers of an output together',
      labelNames: ['output'],
      registers,
    });
    this.webrtcDroppedFrames = new Counter({
      name: `${PREFIX}webrtc_viewer_dropped_frames_total`,
      help: 'Frames not sent to a WHEP viewer whose transport lagged (it skips to the next keyframe; other viewers are not affected)',
      labelNames: ['output'],
      registers,
    });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
