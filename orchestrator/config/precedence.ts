/**
 * Which value each stream setting takes at start: an environment variable that is set wins over
 * the stored state, which wins over the defaults (docs/configuration.md, Precedence). Only the stream config
 * is both set by the environment and stored (`PATCH /stream/config` changes it); every other
 * setting comes from the environment or its default.
 */
import type { Logger } from 'pino';
import type { EncoderSettings, StreamConfig } from '../../shared/stream-config.js';
import { redactUrl } from '../../shared/outputs.js';

/** Where a setting's value came from. */
export type SettingSource = 'env' | 'stored' | 'default';

/** One stream setting with an environment variable: its value in a config, and how to copy it over. */
interface StreamSetting {
  get(c: StreamConfig): unknown;
  /** `into` with this setting taken from `from`. */
  copy(into: StreamConfig, from: StreamConfig): StreamConfig;
}

const encoder = (key: keyof EncoderSettings): StreamSetting => ({
  get: (c) => c.encoder[key],
  copy: (into, from) => ({ ...into, encoder: { ...into.encoder, [key]: from.encoder[key] } }),
});

/** The stream settings that have an environment variable (env.ts), by variable name. */
export const STREAM_ENV_SETTINGS: Readonly<Record<string, StreamSetting>> = {
  WIDTH: { get: (c) => c.width, copy: (into, from) => ({ ...into, width: from.width }) },
  HEIGHT: { get: (c) => c.height, copy: (into, from) => ({ ...into, height: from.height }) },
  FPS: { get: (c) => c.targetFPS, copy: (into, from) => ({ ...into, targetFPS: from.targetFPS }) },
  BACKGROUND: { get: (c) => c.background, copy: (into, from) => ({ ...into, background: from.background }) },
  OUTPUT_URL: { get: (c) => c.output.url, copy: (into, from) => ({ ...into, output: { ...into.output, url: from.output.url } }) },
  X264_PRESET: encoder('preset'),
  VIDEO_BITRATE_KBPS: encoder('bitrateKbps'),
  KEYFRAME_INTERVAL_S: encoder('keyframeIntervalSeconds'),
  AUDIO: encoder('audio'),
  COLOR_MATRIX: encoder('colorMatrix'),
  ENCODER_LATENCY: encoder('latency'),
};

/** The outcome of {@link resolveStreamConfig}. */
export interface ResolvedStreamConfig {
  config: StreamConfig;
  /** Source of every setting in {@link STREAM_ENV_SETTINGS}, by variable name. */
  sources: Record<string, SettingSource>;
  /** Variables whose environment value replaced a different stored one. */
  overridden: string[];
}

/**
 * Applies the precedence environment > stored > default to the stream config.
 * @param current  the config in effect after loading the state: the stored one, or (nothing
 *   stored) the environment's with defaults
 * @param fromEnv  the config built from the environment and defaults (`ServerConfig.stream`)
 * @param explicit names of the variables set (non-empty) in the environment
 * @param stored   whether `current` was read from the store
 */
export function resolveStreamConfig(
  current: StreamConfig,
  fromEnv: StreamConfig,
  explicit: ReadonlySet<string>,
  stored: boolean,
): ResolvedStreamConfig {
  let config = current;
  const sources: Record<string, SettingSource> = {};
  const overridden: string[] = [];
  for (const [name, setting] of Object.entries(STREAM_ENV_SETTINGS)) {
    if (explicit.has(name)) {
      sources[name] = 'env';
      if (JSON.stringify(setting.get(config)) !== JSON.stringify(setting.get(fromEnv))) {
        config = setting.copy(config, fromEnv);
        if (stored) overridden.push(name);
      }
    } else {
      sources[name] = stored ? 'stored' : 'default';
    }
  }
  return { config, sources, overridden };
}

/** What {@link applyEnvPrecedence} needs of the state. */
export interface ConfigHolder {
  readonly config: StreamConfig;
  /** Whether the config was read from the store (false: defaults, nothing or no config stored). */
  readonly configStored: boolean;
  setConfig(config: StreamConfig): unknown;
}

/**
 * Gives the environment's stream settings precedence over the loaded state's, storing the result
 * when it differs (so the stored state is the config in effect), and logs one info line naming
 * each setting's source and value (the output URL redacted).
 */
export function applyEnvPrecedence(
  state: ConfigHolder,
  fromEnv: StreamConfig,
  explicit: ReadonlySet<string>,
  log: Logger,
): ResolvedStreamConfig {
  const resolved = resolveStreamConfig(state.config, fromEnv, explicit, state.configStored);
  if (resolved.config !== state.config) state.setConfig(resolved.config);
  const values = Object.fromEntries(Object.entries(STREAM_ENV_SETTINGS).map(([name, s]) => [name, s.get(resolved.config)]));
  if (typeof values['OUTPUT_URL'] === 'string') values['OUTPUT_URL'] = redactUrl(values['OUTPUT_URL']);
  log.info(
    { sources: resolved.sources, values, overridden: resolved.overridden },
    'stream settings: environment > stored state > defaults (sources: env, stored, default)',
  );
  return resolved;
}
