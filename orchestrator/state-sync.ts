/**
 * Keeps the stream in step with the state: every stream config change is applied by one
 * subscriber ({@link ConfigFollower}), the stored outputs are restored into the output hub and its
 * changes stored, the pipeline's transitions are noted in the state, and a state that loads late
 * (the store was unreachable at start) is adopted.
 */
import type { Logger } from 'pino';
import type { StreamConfig } from '../shared/stream-config.js';
import type { ServerConfig } from './config/env.js';
import { confineStoredOutput } from './config/output-dirs.js';
import { applyEnvPrecedence } from './config/precedence.js';
import type { StreamPipeline } from './pipeline.js';
import type { StateManager } from './state/state-manager.js';

/** What applies a stream config: the pipeline. */
export interface ConfigTarget {
  /** Puts `config` in effect (restarting the encoder while live when it must). */
  applyConfig(config: StreamConfig): Promise<unknown>;
}

/**
 * The one subscriber that applies the state's stream config changes to the stream, in order, as
 * they happen. A request that changed the config awaits {@link applied} before it answers, so a
 * 2xx means the new config is in effect.
 */
export class ConfigFollower {
  readonly #state: StateManager;
  readonly #target: ConfigTarget;
  readonly #log: Logger;
  #applied: Promise<unknown> = Promise.resolve();
  #held: Promise<void> | null = null;
  #missed = false;

  constructor(state: StateManager, target: ConfigTarget, log: Logger) {
    this.#state = state;
    this.#target = target;
    this.#log = log;
    state.on('change', (e) => {
      if (e.type !== 'config') return;
      if (this.#held) this.#missed = true;
      else this.#apply();
    });
  }

  /** Resolves once the config set last is in effect; rejects as applying it did. */
  applied(): Promise<unknown> {
    return this.#held ? this.#held.then(() => this.#applied) : this.#applied;
  }

  /**
   * Runs `fn` with changes held: the config in effect when it is done is applied once, not each
   * step on the way (a stored output that is set aside must never be started first).
   */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    let release = (): void => undefined;
    this.#held = new Promise((resolve) => (release = resolve));
    try {
      return await fn();
    } finally {
      this.#held = null;
      if (this.#missed) {
        this.#missed = false;
        this.#apply();
      }
      release();
    }
  }

  #apply(): void {
    const applied = this.#target.applyConfig(this.#state.config);
    applied.catch((err: unknown) => this.#log.error({ err }, 'the stream config could not be applied'));
    this.#applied = applied;
  }
}

/** Puts the stored outputs into the pipeline's hub; those that are invalid are logged and skipped. */
function restoreOutputs(state: StateManager, pipeline: StreamPipeline, log: Logger): void {
  const skipped = pipeline.hub.restore(state.outputs);
  if (skipped.length) log.error({ outputs: skipped }, 'stored outputs are invalid; skipped');
}

/**
 * Connects `state` and `pipeline` both ways (see the file comment).
 * @param config the environment's stream settings and which were set, which win over a state
 *   that loads late as they did at start
 * @returns the config subscriber, whose `applied()` requests await
 */
export function syncState(
  state: StateManager,
  pipeline: StreamPipeline,
  config: Pick<ServerConfig, 'stream' | 'explicit'>,
  log: Logger,
): ConfigFollower {
  pipeline.on('state', (stream) => state.observeStream(stream));
  restoreOutputs(state, pipeline, log);
  pipeline.hub.on('specs', (specs) => state.setOutputs(specs));
  state.on('change', (e) => {
    // The preview scene is off air: its changes never make a program frame early.
    if (e.type !== 'stream' && e.type !== 'preview') pipeline.changed();
  });
  const follower = new ConfigFollower(state, pipeline, log);
  state.store.onReconnect(() => {
    follower
      .hold(async () => {
        if (!(await state.loadLate())) return;
        applyEnvPrecedence(state, config.stream, config.explicit, log);
        // Nothing was changed meanwhile, so the hub holds no outputs: take the stored ones (before
        // its next change writes its list over them).
        restoreOutputs(state, pipeline, log);
        confineStoredOutput(state, pipeline.outputPaths, log);
      })
      .catch((err: unknown) => log.error({ err }, 'late state load failed'));
  });
  return follower;
}
