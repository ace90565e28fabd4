import type { Router } from '@koa/router';
import { send } from '@koa/send';
import { join } from 'node:path';
import { AppError } from '../../shared/errors.js';
import type { OutputView } from '../../shared/outputs.js';
import type { StreamPipeline } from '../pipeline.js';

/** HLS file names ffmpeg writes: the playlist and numbered segments. */
const HLS_FILE = /^(index\.m3u8|seg-\d{5,}\.ts)$/;
const MAIN = 'main';

/** The config's own output as an item of `GET /outputs` (changed with `PATCH /config`, not here). */
function mainView(pipeline: StreamPipeline): OutputView {
  const m = pipeline.outputs()[0]!;
  const rtmp = m.url !== null && /^rtmps?:\/\//i.test(m.url);
  return { ...m, kind: rtmp ? 'rtmp' : 'file', enabled: true, encoder: {}, encodeGroup: MAIN, location: rtmp ? null : (m.file ?? m.url) };
}

function notMain(id: string): string {
  if (id === MAIN)
    throw new AppError(
      'SM_ERR_VALIDATION',
      'The "main" output is the config\'s output: change it with PATCH /stream/config {"output":{"url":...}}',
    );
  return id;
}

/**
 * Outputs: `GET /outputs` (`main` first, then the extra ones), `POST /outputs`, `GET|PATCH|DELETE
 * /outputs/:id`, `POST /outputs/:id/start|stop`, and `GET /hls/:id/:file` (an HLS output's live
 * playlist and segments). Every URL in an answer has its stream key redacted.
 */
export function outputRoutes(router: Router, pipeline: StreamPipeline, dataDir: string): void {
  const hub = pipeline.hub;
  router.get('/outputs', (ctx) => {
    ctx.body = { outputs: [mainView(pipeline), ...hub.list()] };
  });
  router.post('/outputs', (ctx) => {
    const view = hub.create(ctx.request.body);
    ctx.state['log']?.info({ output: view.id, kind: view.kind, url: view.url }, 'output created');
    ctx.status = 201;
    ctx.body = view;
  });
  router.get('/outputs/:id', (ctx) => {
    const id = ctx.params['id']!;
    ctx.body = id === MAIN ? mainView(pipeline) : hub.get(id);
  });
  router.patch('/outputs/:id', async (ctx) => {
    ctx.body = await hub.patch(notMain(ctx.params['id']!), ctx.request.body);
  });
  router.delete('/outputs/:id', async (ctx) => {
    await hub.remove(notMain(ctx.params['id']!));
    ctx.status = 204;
  });
  router.post('/outputs/:id/start', async (ctx) => {
    ctx.body = await hub.setEnabled(notMain(ctx.params['id']!), true);
  });
  router.post('/outputs/:id/stop', async (ctx) => {
    ctx.body = await hub.setEnabled(notMain(ctx.params['id']!), false);
  });
  router.get('/hls/:id/:file', async (ctx) => {
    const id = ctx.params['id']!;
    const file = ctx.params['file']!;
    if (hub.get(id).kind !== 'hls' || !HLS_FILE.test(file)) throw new AppError('SM_ERR_NOT_FOUND', 'No such HLS file');
    const playlist = file.endsWith('.m3u8');
    try {
      await send(ctx, file, { root: join(dataDir, 'hls', id), index: false, hidden: false });
    } catch {
      throw new AppError('SM_ERR_NOT_FOUND', 'No such HLS file (yet): is the stream live and the output enabled?');
    }
    ctx.type = playlist ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
    ctx.set('Cache-Control', playlist ? 'no-cache' : 'public, max-age=60');
  });
}
