import type { Router } from '@koa/router';
import { z } from 'zod';
import { StreamConfigPatchSchema, StreamConfigSchema } from '../../shared/stream-config.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { StreamPipeline } from '../pipeline.js';
import { mergePatch } from '../scene/merge-patch.js';

const SnapshotQuerySchema = z.strictObject({ width: z.coerce.number().int().min(16).max(7680).optional() });

/**
 * Stream control and config: `GET /status`, `POST /start|stop|pause|resume|reset`,
 * `GET|PATCH /config`, `GET /snapshot` (PNG, `?width=` downscales).
 */
export function streamRoutes(router: Router, pipeline: StreamPipeline): void {
  router.get('/status', (ctx) => {
    ctx.body = pipeline.status();
  });
  router.post('/start', async (ctx) => {
    ctx.body = await pipeline.start();
  });
  router.post('/stop', async (ctx) => {
    ctx.body = await pipeline.stop();
  });
  router.post('/pause', (ctx) => {
    ctx.body = pipeline.pause();
  });
  router.post('/resume', (ctx) => {
    ctx.body = pipeline.resume();
  });
  router.post('/reset', async (ctx) => {
    ctx.body = await pipeline.reset();
  });
  router.get('/config', (ctx) => {
    ctx.body = pipeline.config;
  });
  router.patch('/config', async (ctx) => {
    const patch = parseOrThrow(StreamConfigPatchSchema, ctx.request.body ?? {}, 'config');
    const next = parseOrThrow(StreamConfigSchema, mergePatch(pipeline.config, patch), 'config');
    ctx.body = await pipeline.applyConfig(next);
  });
  router.get('/snapshot', async (ctx) => {
    const { width } = parseOrThrow(SnapshotQuerySchema, ctx.query, 'snapshot query');
    ctx.type = 'image/png';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await pipeline.snapshot(width);
  });
}
