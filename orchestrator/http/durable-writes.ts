import type { Middleware } from 'koa';
import { AppError } from '../../shared/errors.js';
import type { StateManager } from '../state/state-manager.js';

/** Methods that may change state. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Routes not refused up front while the store is down: stream control (stopping a stream must
 * work on a bad day; its state transition is then answered 503 "held in memory"), chat and WHEP
 * sessions (not persisted). Matched under both API prefixes.
 */
const NOT_REFUSED = /^(?:\/api)?\/stream\/(?:start|stop|pause|resume|reset|chat|whep\/[^/]+(?:\/[^/]+)?)$/;

/**
 * Makes a 2xx on a mutating request mean "stored": the file store wrote and fsynced, Redis
 * answered EXEC. While the store cannot be written, a mutating request is refused before it
 * changes anything (503 SM_ERR_STORE_UNAVAILABLE). Otherwise the handler runs; if it changed the
 * state version, the answer waits for the write that carries that version (changes from other
 * requests meanwhile share it: group commit). A write that then fails turns the answer into 503
 * SM_ERR_STORE_UNAVAILABLE saying the change is held in memory and written when the store is back.
 * Requests that change nothing persisted (the version did not move) are answered at once.
 */
export function durableWrites(state: StateManager): Middleware {
  return async (ctx, next) => {
    if (!MUTATING.has(ctx.method)) return next();
    if (!state.writable && !NOT_REFUSED.test(ctx.path)) {
      const why = !state.loaded
        ? 'the stored state has not been read yet'
        : !state.store.connected
          ? `the ${state.store.kind} store is unreachable`
          : `the last write to the ${state.store.kind} store failed`;
      throw new AppError(
        'SM_ERR_STORE_UNAVAILABLE',
        `The state store cannot be written right now (${why}); nothing was changed. Retry when /health shows the store ok`,
      );
    }
    const before = state.version;
    await next();
    const after = state.version;
    if (after !== before && ctx.status < 300) await state.durable(after);
  };
}
