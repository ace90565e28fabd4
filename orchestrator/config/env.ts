import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ColorSchema } from '../../shared/color.js';
import { EncoderSettingsSchema, OutputSettingsSchema, type StreamConfig } from '../../shared/stream-config.js';
import { formatIssues } from '../../shared/validation.js';
import type { ErrorCode } from '../../shared/errors.js';
import { OutputPolicy } from './output-dirs.js';
import { AuthTokensEnvSchema, TokenSchema, isLoopback, readTokensFile, tokenDigest, tokenEntries, type TokenEntry } from './tokens.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const port = int(0, 65535);

/**
 * Every environment variable the server reads, with its default. `.env.example` and the table in
 * docs/configuration.md list the same names; keep the three in step.
 */
export const EnvSchema = z.object({
  PORT: port.default(4200),
  WS_PORT: port.default(4201),
  METRICS_PORT: port.optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  WIDTH: int(16, 7680).multipleOf(2).default(1280),
  HEIGHT: int(16, 4320).multipleOf(2).default(720),
  FPS: int(1, 120).default(30),
  BACKGROUND: ColorSchema.default('#101018'),
  OUTPUT_URL: OutputSettingsSchema.shape.url.unwrap().unwrap().optional(),
  RECORDINGS_DIR: z.string().min(1).default('recordings'),
  OUTPUT_DIRS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .refine(
            (d) => isAbsolute(d) && resolve(d) !== '/' && !d.includes('\0'),
            'Expected absolute folders other than "/", comma-separated, e.g. /srv/media,/mnt/archive',
          ),
      ),
    )
    .default([]),
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  X264_PRESET: EncoderSettingsSchema.shape.preset.default('veryfast'),
  // Coerced first: the shared schema expects a number, an env value is always a string.
  VIDEO_BITRATE_KBPS: z.coerce.number().pipe(EncoderSettingsSchema.shape.bitrateKbps).default(2500),
  KEYFRAME_INTERVAL_S: z.coerce.number().positive().max(20).default(2),
  AUDIO: EncoderSettingsSchema.shape.audio.default('silent'),
  COLOR_MATRIX: EncoderSettingsSchema.shape.colorMatrix,
  ENCODER_LATENCY: EncoderSettingsSchema.shape.latency,
  ENCODER_MAX_QUEUED_FRAMES: int(1, 30).default(3),
  ENCODER_RESTART_DELAY_MS: int(10, 600_000).default(2000),
  ENCODER_RESTART_MAX_DELAY_MS: int(10, 3_600_000).default(30_000),
  ENCODER_MAX_RETRIES: int(0, 1000).default(10),
  ENCODER_STALL_MS: int(500, 600_000).default(10_000),
  WORKERS: int(1, 256).default(availableParallelism()),
  RENDER_MAX_QUEUE: int(1, 100_000).default(128),
  RENDER_TIMEOUT_MS: int(50, 600_000).default(2000),
  WORKER_MAX_HEAP_MB: int(16, 65_536).default(1024),
  PREVIEW_FPS: int(1, 60).default(10),
  PREVIEW_WIDTHS: z
    .string()
    .regex(/^\d{2,4},\d{2,4},\d{2,4}$/, 'Expected three widths in pixels, low,medium,high, e.g. 320,640,960')
    .default('320,640,960'),
  WS_HEARTBEAT_MS: int(50, 600_000).default(30_000),
  WS_MAX_BUFFERED_BYTES: int(16 * 1024, 256 * 1024 * 1024).default(1024 * 1024),
  WS_CONGESTION_CLOSE_MS: int(100, 600_000).default(10_000),
  PREVIEW_QUALITY: int(1, 100).default(70),
  ASSET_ROOT: z.string().min(1).default('.'),
  ASSET_STORAGE_PATH: z.string().min(1).default('data/assets'),
  MAX_UPLOAD_SIZE: int(1024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
  LIMIT_INPUT_PIXELS: int(1, 1_000_000_000).default(40_000_000),
  ALLOW_SVG: z.enum(['true', 'false']).default('false'),
  MAX_VIDEO_UPLOAD_SIZE: int(1024, 1024 * 1024 * 1024 * 1024).default(1024 * 1024 * 1024),
  MAX_VIDEO_PIXELS: int(1, 1_000_000_000).default(3840 * 2160),
  MAX_VIDEO_DURATION_S: int(1, 7 * 86_400).default(3600),
  MAX_VIDEO_SOURCES: int(1, 256).default(16),
  IMAGE_CACHE_BYTES: int(1024 * 1024, 64 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
  AUTOSTART: z.enum(['true', 'false']).default('true'),
  DEFAULT_SCENE: z.enum(['auction', 'empty']).default('auction'),
  STATE_STORE: z.enum(['file', 'redis', 'memory']).default('file'),
  DATA_DIR: z.string().min(1).default('data'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'Expected a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().max(64).default('sm:'),
  RESUME_ON_START: z.enum(['true', 'false']).default('true'),
  AUTH_TOKENS: AuthTokensEnvSchema.optional(),
  AUTH_TOKENS_FILE: z.string().min(1).optional(),
  METRICS_TOKEN: TokenSchema.optional(),
  CORS_ORIGINS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.union([z.literal('*'), z.string().regex(/^https?:\/\/[^/\s,]+$/, 'Expected origins like https://admin.example.com')])))
    .default([]),
  RATE_LIMIT_MAX: int(0, 1_000_000).default(600),
  RATE_LIMIT_WINDOW_MS: int(100, 86_400_000).default(60_000),
  WS_MESSAGE_RATE: int(1, 10_000).default(20),
  MAX_CONNECTIONS: int(16, 10_000_000).optional(),
  HEADERS_TIMEOUT_MS: int(1000, 600_000).default(10_000),
  REQUEST_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5000),
  WS_MAX_PER_IP: int(1, 1_000_000).default(32),
  WS_MAX_PER_TOKEN: int(1, 1_000_000).default(64),
  ALLOWED_HOSTS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.union([
          z.literal('*'),
          z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/, 'Expected host names like stream.example.com'),
        ]),
      ),
    )
    .default([]),
  WEBRTC_MAX_VIEWERS: int(0, 10_000).default(20),
  WEBRTC_ICE_HOSTS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()], { message: 'Expected IP addresses, comma-separated, e.g. 203.0.113.7' })))
    .default([]),
  WEBRTC_UDP_PORTS: z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'Expected a UDP port range min-max, e.g. 40000-40100')
    .transform((s) => s.split('-').map(Number) as [number, number])
    .refine(([min, max]) => min >= 1024 && max <= 65535 && min <= max, 'Expected 1024 <= min <= max <= 65535')
    .optional(),
  LOG_PRETTY: z.enum(['0', '1']).default('0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Read by main.ts before this schema (config/dotenv.ts): the env file, `none` for none.
  ENV_FILE: z.string().min(1).default('.env'),
});

/** Server configuration: fixed at start, except `stream`, which `PATCH /config` may change. */
export interface ServerConfig {
  port: number;
  /** Port of the standalone WebSocket server; 0 picks a free one; null: none. */
  wsPort: number | null;
  /** Port of a metrics-only server (`/metrics`), or null: metrics only on the HTTP port. */
  metricsPort: number | null;
  host: string;
  stream: StreamConfig;
  recordingsDir: string;
  /** Folders besides `recordingsDir` that absolute file output paths may point into (OUTPUT_DIRS). */
  outputDirs: string[];
  ffmpegPath: string;
  /** Frames written to ffmpeg but not yet consumed, above which a new frame is dropped. */
  encoderMaxQueuedFrames: number;
  /** Restart of a dead or stalled ffmpeg while live: first delay x1.5 per attempt, capped; retries; stall time. */
  encoderRestart: { firstDelayMs: number; factor: number; maxDelayMs: number; maxRetries: number; stallMs: number };
  workers: number;
  /** Render tasks that may wait (more: the frame is dropped), task timeout (ms), worker heap limit (MiB). */
  render: { maxQueue: number; taskTimeoutMs: number; maxHeapMb: number };
  /** Preview rate (fps), width in pixels per quality level, JPEG quality 1..100. */
  preview: { fps: number; widths: Record<'low' | 'medium' | 'high', number>; quality: number };
  /**
   * WebSocket heartbeat interval, congestion threshold (bytes), how long congestion is tolerated
   * (ms), and messages per second one socket may send.
   */
  ws: {
    heartbeatMs: number;
    maxBufferedBytes: number;
    congestionCloseMs: number;
    messagesPerSecond: number;
    maxPerIp: number;
    maxPerToken: number;
  };
  /**
   * Connections: the most open at once over all servers (null: derived from the fd limit), the
   * header, request and keep-alive timeouts (ms), and the extra `Host` names served
   * (ALLOWED_HOSTS; loopback names always are).
   */
  net: {
    maxConnections: number | null;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    allowedHosts: string[];
  };
  /**
   * Tokens and roles as digests (empty: auth off, loopback only; auth/'s `TokenSet` checks
   * them), the digest of METRICS_TOKEN (null: `/metrics` is open), and the origins allowed
   * cross-origin (CORS for HTTP, the `Origin` check on WebSocket upgrades).
   */
  auth: { tokens: TokenEntry[]; metricsToken: Buffer | null; corsOrigins: string[] };
  /** HTTP requests per client (token or IP) per window; `max` 0 turns the limit off. */
  rateLimit: { max: number; windowMs: number };
  /** Absolute-or-relative folder that holds `assets/`. */
  assetRoot: string;
  /**
   * Uploaded assets: where they are stored (by content hash), the largest upload (bytes), the
   * most pixels an image may declare, whether SVG is accepted (rasterised), and the bytes of
   * decoded images each worker may keep; for videos, the largest upload (bytes), the most
   * pixels (width x height) and the longest duration (seconds) accepted.
   */
  assets: {
    storagePath: string;
    maxUploadBytes: number;
    limitInputPixels: number;
    allowSvg: boolean;
    imageCacheBytes: number;
    /** `maxSources`: video layers decoding at once (an ffmpeg and a reader thread each). */
    video: { maxUploadBytes: number; maxPixels: number; maxDurationS: number; maxSources: number };
  };
  defaultScene: 'auction' | 'empty';
  /** Go live as soon as the server is up, on a first boot (no stored state). */
  autostart: boolean;
  /** Where state persists: `file` under `dataDir`, `redis` at `redisUrl` under `redisPrefix`, or `memory`. */
  state: { store: 'file' | 'redis' | 'memory'; dataDir: string; redisUrl: string; redisPrefix: string; resumeOnStart: boolean };
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** Human-readable logs (pino-pretty) instead of JSON lines. */
  logPretty: boolean;
  /**
   * WHEP viewers of `webrtc` outputs: the most at once over all outputs, the addresses announced
   * as ICE host candidates besides the interfaces' (a public address behind NAT), and the UDP
   * port range their connections bind in (null: any).
   */
  webrtc: { maxViewers: number; ice: { hostAddresses: string[]; portRange: [number, number] | null } };
  /**
   * The variables set (non-empty) in the environment: they win over the stored state at start
   * (config/precedence.ts); the rest of `stream` is defaults, which the stored state overrides.
   */
  explicit: ReadonlySet<string>;
}

/** Thrown by {@link loadConfig} when the environment is invalid; `issues` names each variable. */
export class ConfigError extends Error {
  readonly code = 'SM_ERR_CONFIG' satisfies ErrorCode;
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`Invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration from `env` (default `process.env`). Empty strings count
 * as unset.
 * Reads the tokens (AUTH_TOKENS, AUTH_TOKENS_FILE, METRICS_TOKEN) as digests only.
 * @throws ConfigError naming every invalid variable, an unreadable or invalid tokens file, a
 *   HOST other than loopback when no tokens are configured, and an OUTPUT_URL file path outside
 *   RECORDINGS_DIR and OUTPUT_DIRS
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error));
  const e = parsed.data;
  let tokens: TokenEntry[];
  try {
    tokens = tokenEntries(e.AUTH_TOKENS ?? [], e.AUTH_TOKENS_FILE ? readTokensFile(e.AUTH_TOKENS_FILE) : null);
  } catch (err) {
    throw new ConfigError([{ path: e.AUTH_TOKENS_FILE ? 'AUTH_TOKENS_FILE' : 'AUTH_TOKENS', message: (err as Error).message }]);
  }
  if (e.OUTPUT_URL) {
    try {
      new OutputPolicy(e.RECORDINGS_DIR, e.OUTPUT_DIRS).check(e.OUTPUT_URL);
    } catch (err) {
      throw new ConfigError([{ path: 'OUTPUT_URL', message: (err as Error).message }]);
    }
  }
  if (tokens.length === 0 && !isLoopback(e.HOST)) {
    throw new ConfigError([
      {
        path: 'HOST',
        message: `Binding to ${e.HOST} without tokens would let anyone on the network drive the stream: set AUTH_TOKENS or AUTH_TOKENS_FILE, or bind to 127.0.0.1`,
      },
    ]);
  }
  if (e.REQUEST_TIMEOUT_MS < e.HEADERS_TIMEOUT_MS) {
    throw new ConfigError([{ path: 'REQUEST_TIMEOUT_MS', message: `Must be at least HEADERS_TIMEOUT_MS (${e.HEADERS_TIMEOUT_MS})` }]);
  }
  return {
    port: e.PORT,
    wsPort: e.WS_PORT,
    metricsPort: e.METRICS_PORT ?? null,
    host: e.HOST,
    stream: {
      width: e.WIDTH,
      height: e.HEIGHT,
      targetFPS: e.FPS,
      background: e.BACKGROUND,
      encoder: {
        preset: e.X264_PRESET,
        bitrateKbps: e.VIDEO_BITRATE_KBPS,
        keyframeIntervalSeconds: e.KEYFRAME_INTERVAL_S,
        audio: e.AUDIO,
        colorMatrix: e.COLOR_MATRIX,
        latency: e.ENCODER_LATENCY,
      },
      output: { url: e.OUTPUT_URL ?? null },
    },
    recordingsDir: e.RECORDINGS_DIR,
    outputDirs: e.OUTPUT_DIRS,
    ffmpegPath: e.FFMPEG_PATH,
    encoderMaxQueuedFrames: e.ENCODER_MAX_QUEUED_FRAMES,
    encoderRestart: {
      firstDelayMs: e.ENCODER_RESTART_DELAY_MS,
      factor: 1.5,
      maxDelayMs: e.ENCODER_RESTART_MAX_DELAY_MS,
      maxRetries: e.ENCODER_MAX_RETRIES,
      stallMs: e.ENCODER_STALL_MS,
    },
    workers: e.WORKERS,
    render: { maxQueue: e.RENDER_MAX_QUEUE, taskTimeoutMs: e.RENDER_TIMEOUT_MS, maxHeapMb: e.WORKER_MAX_HEAP_MB },
    preview: { fps: e.PREVIEW_FPS, widths: previewWidths(e.PREVIEW_WIDTHS), quality: e.PREVIEW_QUALITY },
    ws: {
      heartbeatMs: e.WS_HEARTBEAT_MS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      congestionCloseMs: e.WS_CONGESTION_CLOSE_MS,
      messagesPerSecond: e.WS_MESSAGE_RATE,
      maxPerIp: e.WS_MAX_PER_IP,
      maxPerToken: e.WS_MAX_PER_TOKEN,
    },
    net: {
      maxConnections: e.MAX_CONNECTIONS ?? null,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      allowedHosts: e.ALLOWED_HOSTS,
    },
    auth: { tokens, metricsToken: e.METRICS_TOKEN ? tokenDigest(e.METRICS_TOKEN) : null, corsOrigins: e.CORS_ORIGINS },
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS },
    assetRoot: e.ASSET_ROOT,
    assets: {
      storagePath: e.ASSET_STORAGE_PATH,
      maxUploadBytes: e.MAX_UPLOAD_SIZE,
      limitInputPixels: e.LIMIT_INPUT_PIXELS,
      allowSvg: e.ALLOW_SVG === 'true',
      imageCacheBytes: e.IMAGE_CACHE_BYTES,
      video: {
        maxUploadBytes: e.MAX_VIDEO_UPLOAD_SIZE,
        maxPixels: e.MAX_VIDEO_PIXELS,
        maxDurationS: e.MAX_VIDEO_DURATION_S,
        maxSources: e.MAX_VIDEO_SOURCES,
      },
    },
    defaultScene: e.DEFAULT_SCENE,
    autostart: e.AUTOSTART === 'true',
    state: {
      store: e.STATE_STORE,
      dataDir: e.DATA_DIR,
      redisUrl: e.REDIS_URL,
      redisPrefix: e.REDIS_PREFIX,
      resumeOnStart: e.RESUME_ON_START === 'true',
    },
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY === '1',
    webrtc: { maxViewers: e.WEBRTC_MAX_VIEWERS, ice: { hostAddresses: e.WEBRTC_ICE_HOSTS, portRange: e.WEBRTC_UDP_PORTS ?? null } },
    explicit: new Set(Object.keys(cleaned).filter((k) => Object.hasOwn(EnvSchema.shape, k))),
  };
}

function previewWidths(csv: string): Record<'low' | 'medium' | 'high', number> {
  const [low, medium, high] = csv.split(',').map(Number) as [number, number, number];
  return { low, medium, high };
}
