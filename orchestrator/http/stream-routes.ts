import type { Router } from '@koa/router';
import { redactConfig } from '../../shared/outputs.js';
import { SnapshotQuerySchema } from '../../shared/queries.js';
import { StreamConfigPatchSchema, StreamConfigSchema, type StreamConfig } from '../../shared/stream-config.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { LayerView } from '../../shared/layer-view.js';
import type { SceneDocument } from '../../shared/state-doc.js';
import { viewLayers } from '../media/media-view.js';
import type { StreamPipeline } from '../pipeline.js';
import { mergePatch } from '../scene/merge-patch.js';
import type { StateManager } from '../state/state-manager.js';
import type { ConfigFollower } from '../state-sync.js';
import { seesSecrets } from '../auth/policy.js';
import type { AuthState } from './auth-middleware.js';
import { ifMatch, setEtag } from './etag.js';

/** The config as this caller may see it: the output URL's stream key redacted for all but admins. */
function configFor(ctx: { state: Partial<AuthState> }, config: StreamConfig): StreamConfig {
  return seesSecrets(ctx.state.principal) ? config : redactConfig(config);
}

/**
 * Stream control, config and scene documents: `GET /status`, `POST /start|stop|pause|resume|reset`,
 * `GET|PATCH /config`, `GET|PUT /scene` (video layers with their `media`), `GET /snapshot` (PNG, `?width=` downscales). Config and
 * scene carry ETags and honour If-Match. The config's output URL is redacted for every role but admin.
 * A config change is answered once `config` (the one subscriber that applies it) has it in effect.
 */
export function streamRoutes(router: Router, pipeline: StreamPipeline, state: StateManager, config: Pick<ConfigFollower, 'applied'>): void {
  const view = (doc: SceneDocument): SceneDocument & { layers: LayerView[] } => ({
    ...doc,
    layers: viewLayers(doc.layers, pipeline.media),
  });
  router.get('/status', (ctx) => {
    ctx.body = { ...pipeline.status(), outputs: pipeline.outputs() };
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
    setEtag(ctx, state.configVersion);
    ctx.body = configFor(ctx, state.config);
  });
  router.patch('/config', async (ctx) => {
    const patch = parseOrThrow(StreamConfigPatchSchema, ctx.request.body ?? {}, 'config');
    const next = parseOrThrow(StreamConfigSchema, mergePatch(state.config, patch), 'config');
    // A file output outside RECORDINGS_DIR/OUTPUT_DIRS: 400 SM_ERR_OUTPUT_URL, nothing changed or spawned.
    pipeline.outputPaths.check(next.output.url);
    state.setConfig(next, ifMatch(ctx));
    const version = state.configVersion;
    await config.applied();
    setEtag(ctx, version);
    ctx.body = configFor(ctx, next);
  });
  router.get('/scene', (ctx) => {
    const doc = state.sceneDocument();
    setEtag(ctx, doc.version ?? state.version);
    ctx.body = view(doc);
  });
  router.put('/scene', async (ctx) => {
    const doc = state.replaceScene(ctx.request.body, ifMatch(ctx));
    await config.applied();
    setEtag(ctx, doc.version ?? state.version);
    ctx.body = view(doc);
  });
  router.get('/snapshot', async (ctx) => {
    const { width } = parseOrThrow(SnapshotQuerySchema, ctx.query, 'snapshot query');
    ctx.type = 'image/png';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await pipeline.snapshot(width);
  });
}
