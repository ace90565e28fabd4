import type { Router } from '@koa/router';
import type { StateManager } from '../state/state-manager.js';
import { setEtag } from './etag.js';

/**
 * Live data for text placeholders: `GET /data` (`{data, version}`), `PATCH /data` (JSON Merge
 * Patch: `{"bid": 1.7}` sets, `{"bid": null}` removes; every text layer bound to a changed key is
 * re-rendered on the next frame). An invalid body changes nothing.
 */
export function dataRoutes(router: Router, state: StateManager): void {
  router.get('/data', (ctx) => {
    setEtag(ctx, state.dataVersion);
    ctx.body = { data: state.data, version: state.dataVersion };
  });
  router.patch('/data', (ctx) => {
    const data = state.patchData(ctx.request.body);
    ctx.state['log']?.info({ keys: Object.keys(ctx.request.body as object), version: state.dataVersion }, 'data changed');
    setEtag(ctx, state.dataVersion);
    ctx.body = { data, version: state.dataVersion };
  });
}
