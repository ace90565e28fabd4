import type { Router } from '@koa/router';
import type { StateManager } from '../state/state-manager.js';
import { setEtag } from './etag.js';

/**
 * Live data for text placeholders: `GET /data` (`{data, version}`), `PATCH /data` (JSON Merge
 * Patch: `{"bid": 1.7}` sets, `{"bid": null}` removes; every text layer bound to a changed key is
 * re-rendered on the next frame). An invalid body changes nothing. The data is the channel's, shared
 * by studio mode's program and preview: `path` `/preview` serves the same data under `/preview/data`.
 */
export function dataRoutes(router: Router, state: StateManager, path = ''): void {
  router.get(`${path}/data`, (ctx) => {
    setEtag(ctx, state.dataVersion);
    ctx.body = { data: state.data, version: state.dataVersion };
  });
  router.patch(`${path}/data`, (ctx) => {
    const data = state.patchData(ctx.request.body);
    ctx.state['log']?.info({ keys: Object.keys(ctx.request.body as object), version: state.dataVersion }, 'data changed');
    setEtag(ctx, state.dataVersion);
    ctx.body = { data, version: state.dataVersion };
  });
}
