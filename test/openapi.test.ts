import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import sharp from 'sharp';
import t from 'tap';
import { canonicalPath, openApiDocument } from '../orchestrator/http/openapi/document.js';
import { makeClip } from './helpers/media.js';
import { findOperation, issuesOf, operations, responseSchema, validatorFor, type Json } from './helpers/openapi.js';
import { startServer, type TestServer } from './helpers/server.js';

/**
 * The OpenAPI document (`GET /openapi.json`, generated from the zod schemas) against the server
 * itself: it lists exactly the routes the router serves; it is a valid OpenAPI 3.1 document; it is
 * open and holds no configuration value; each operation's security is what the server enforces;
 * and real answers (successes and errors) validate against the schemas it gives for them.
 */

const ADMIN = 'a'.repeat(8) + '0123456789abcdef';
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';
const SECRET_KEY = 'LIVEKEY_9f8e7d6c5b';
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** `METHOD /path` of every route the app serves, as the document names them. */
function servedRoutes(s: TestServer): Set<string> {
  return new Set(s.app.routes.map((r) => `${r.method} ${canonicalPath(r.path)}`));
}

/** `METHOD /path` of every operation of the document. */
function documentedRoutes(doc: Json): Set<string> {
  return new Set(operations(doc).map((o) => `${o.method.toUpperCase()} ${o.path}`));
}

t.test('the document covers every route the router serves, and describes none it does not', async (t) => {
  const s = await startServer();
  t.teardown(() => s.close());
  const served = servedRoutes(s);
  const documented = documentedRoutes(openApiDocument());
  t.ok(served.size > 40, `the router serves ${served.size} routes (the walk found them)`);
  const undocumented = [...served].filter((r) => !documented.has(r)).sort();
  const unserved = [...documented].filter((r) => !served.has(r)).sort();
  t.same(undocumented, [], `routes without an entry in orchestrator/http/openapi/: ${undocumented.join(', ') || 'none'}`);
  t.same(unserved, [], `entries for routes the router does not serve: ${unserved.join(', ') || 'none'}`);
  // Every prefix the document promises is served too.
  for (const r of s.app.routes.filter((x) => x.path.startsWith('/stream/') && !x.path.startsWith('/stream/health'))) {
    t.ok(
      s.app.routes.some((x) => x.method === r.method && x.path === `/api${r.path}`),
      `${r.method} /api${r.path} is served beside ${r.path}`,
    );
  }
  // The comparison can fail: a route the document lacks is named.
  const fake = new Set([...served, 'GET /stream/nope']);
  t.same(
    [...fake].filter((r) => !documented.has(r)),
    ['GET /stream/nope'],
    'a route without an entry is reported by name',
  );
});

t.test('a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async (t) => {
  const doc = openApiDocument();
  t.equal(doc.openapi, '3.1.0');
  const result = await new Validator().validate(doc as unknown as Json);
  t.same(result.errors ?? [], [], 'no errors');
  t.equal(result.valid, true);
  const broken = structuredClone(doc) as unknown as Json;
  broken['paths']['/stream/status']['get']['responses'] = 'none';
  t.equal((await new Validator().validate(broken)).valid, false, 'the validator does refuse a broken document');
  const ids = operations(doc as unknown as Json).map((o) => o.op['operationId']);
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique');
  for (const o of operations(doc as unknown as Json)) {
    const params = [...o.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const declared = (o.op['parameters'] ?? []).filter((p: Json) => p['in'] === 'path').map((p: Json) => p['name']);
    t.same(declared.sort(), params.sort(), `${o.method} ${o.path}: each path parameter is declared`);
  }
});

t.test('served to anyone at /openapi.json and /asyncapi.json, with no configuration value in it', async (t) => {
  const s = await startServer({
    AUTH_TOKENS: `admin:${ADMIN},viewer:${VIEWER}`,
    OUTPUT_URL: `rtmp://127.0.0.1:1935/live/${SECRET_KEY}`,
    WIDTH: '352',
    HEIGHT: '198',
  });
  t.teardown(() => s.close());
  t.equal((await s.call('GET', '/stream/status')).status, 401, 'the API wants a token');
  const res = await fetch(`${s.base}/openapi.json`);
  t.equal(res.status, 200, 'the document does not');
  t.match(res.headers.get('content-type'), /application\/json/);
  const text = await res.text();
  t.same(JSON.parse(text), JSON.parse(JSON.stringify(openApiDocument())), 'the same document as generated (the same for every server)');
  for (const secret of [SECRET_KEY, ADMIN, VIEWER, '352', '198', s.dir]) t.notOk(text.includes(secret), `no "${secret}" in it`);
  const asyncRes = await fetch(`${s.base}/asyncapi.json`);
  t.equal(asyncRes.status, 200);
  const asyncText = await asyncRes.text();
  t.equal(JSON.parse(asyncText).asyncapi, '3.0.0');
  for (const secret of [SECRET_KEY, ADMIN, VIEWER]) t.notOk(asyncText.includes(secret), `no "${secret}" in the AsyncAPI document`);
  const page = await fetch(`${s.base}/docs`);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /text\/html/);
  t.match(page.headers.get('content-security-policy'), /script-src 'self'/, "under the server's CSP");
  t.notMatch(await page.text(), /<script>|<script [^>]*>[^<\s]/, 'no inline script');
  const bundle = await fetch(`${s.base}/docs/swagger-ui-bundle.js`);
  t.equal(bundle.status, 200);
  t.match(bundle.headers.get('content-type'), /javascript/);
  t.ok((await bundle.arrayBuffer()).byteLength > 100_000, 'the vendored Swagger UI');
  for (const path of ['/docs/index.html', '/docs/package.json', '/docs/..%2Fpackage.json', '/docs/%2e%2e%2fREADME.md', '/docs/.hidden']) {
    const r = await fetch(`${s.base}${path}`);
    // A name that is not a docs file is not an open path either: without a token, 401.
    t.ok(r.status === 404 || r.status === 401, `${path}: ${r.status}`);
    t.notMatch(await r.text(), /"name": "stream-manager"|# Stream Manager/, `${path}: no file content`);
  }
});

t.test('each operation answers 401 and 403 exactly as its security says', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `admin:${ADMIN},viewer:${VIEWER}` });
  t.teardown(() => s.close());
  const doc = openApiDocument() as unknown as Json;
  const ops = operations(doc);
  let checked = 0;
  for (const o of ops) {
    const role = o.op['x-required-role'] as string;
    const path = o.path.replace(/\{[^}]+\}/g, 'x');
    const method = o.method.toUpperCase();
    const body = method === 'GET' || method === 'DELETE' ? undefined : {};
    const anonymous = await s.call(method, path, body);
    const needsToken = role === 'viewer' || role === 'operator' || role === 'admin';
    t.equal(anonymous.status === 401, needsToken, `${method} ${o.path} (${role}) without a token: ${anonymous.status}`);
    t.same(
      o.op['security'],
      needsToken ? [{ bearerAuth: [role] }] : role === 'open' ? [] : o.op['security'],
      `${method} ${o.path}: security`,
    );
    if (method === 'GET') {
      const viewer = await s.call(method, path, undefined, bearer(VIEWER));
      t.not(viewer.status, 401, `${method} ${o.path} with a viewer token is not 401`);
      t.not(viewer.status, 403, `${method} ${o.path} with a viewer token is not 403`);
    } else if (needsToken) {
      // A viewer's change is refused before anything runs, whatever the body.
      const viewer = await s.call(method, path, body, bearer(VIEWER));
      t.equal(viewer.status === 403, role !== 'viewer', `${method} ${o.path} (${role}) with a viewer token: ${viewer.status}`);
    }
    checked++;
  }
  t.equal(checked, ops.length);
});

t.test('429 where the document lists it, and not on open routes', async (t) => {
  const s = await startServer({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' });
  t.teardown(() => s.close());
  const doc = openApiDocument() as unknown as Json;
  for (let i = 0; i < 3; i++) await s.call('GET', '/stream/layers');
  const limited = await s.call('GET', '/stream/layers');
  t.equal(limited.status, 429);
  const op = findOperation(doc, 'GET', '/stream/layers')!;
  t.ok(op.op['responses']['429']['x-error-codes'].includes(limited.body.error.code), 'GET /stream/layers lists its 429');
  for (const path of ['/health', '/openapi.json', '/docs']) {
    t.equal((await s.call('GET', path)).status, 200, `${path} is not limited`);
    t.notOk(findOperation(doc, 'GET', path)!.op['responses']['429'], `and the document lists no 429 for ${path}`);
  }
});

t.test('real answers validate against the document: successes and errors', async (t) => {
  const s = await startServer({ WORKERS: '1' });
  t.teardown(() => s.close());
  const doc = openApiDocument() as unknown as Json;
  const validate = validatorFor(doc);
  const exercised = new Set<string>();
  /** Calls the server and checks the answer against the document; returns the body. */
  const check = async (method: string, path: string, body?: unknown, expect?: number): Promise<any> => {
    const res = await s.call(method, path, body);
    const o = findOperation(doc, method, path);
    t.ok(o, `${method} ${path} is in the document`);
    if (!o) return res.body;
    exercised.add(`${o.method} ${o.path}`);
    if (expect !== undefined) t.equal(res.status, expect, `${method} ${path}: ${expect} (${JSON.stringify(res.body).slice(0, 200)})`);
    const response = o.op['responses'][String(res.status)];
    t.ok(response, `${method} ${path}: status ${res.status} is documented`);
    const schema = responseSchema(o.op, res.status);
    if (res.status >= 400) {
      t.ok(schema, `${method} ${path}: ${res.status} has a JSON body`);
      t.ok(
        response?.['x-error-codes']?.includes(res.body?.error?.code),
        `${method} ${path}: ${res.body?.error?.code} is listed for ${res.status}`,
      );
    }
    if (schema) t.same(issuesOf(validate(schema).safeParse(res.body)), [], `${method} ${path} ${res.status}: the answer validates`);
    return res.body;
  };

  const png = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#ff0000' } })
    .png()
    .toBuffer();
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'red.png');
  const upload = await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: form });
  t.equal(upload.status, 201);
  const asset = (await upload.json()) as { id: string };
  const uploadOp = findOperation(doc, 'POST', '/stream/assets/upload')!;
  t.same(issuesOf(validate(responseSchema(uploadOp.op, 201)!).safeParse(asset)), [], "the upload's answer validates");
  exercised.add('post /stream/assets/upload');

  // A video: its layer is answered with `media`; media actions and the poster.
  await makeClip(join(s.dir, 'clip.mp4'), ['red', 'blue'], { width: 160, height: 90, fps: 15 });
  const videoForm = new FormData();
  videoForm.append('file', new Blob([readFileSync(join(s.dir, 'clip.mp4'))], { type: 'video/mp4' }), 'clip.mp4');
  const videoUp = await fetch(`${s.base}/stream/assets/upload`, { method: 'POST', body: videoForm });
  t.equal(videoUp.status, 201, 'a video upload');
  const video = (await videoUp.json()) as { id: string };
  await check('POST', '/stream/layers', { id: 'vid', content: { type: 'video', src: video.id, loop: true } }, 201);
  const vid = await check('GET', '/stream/layers/vid', undefined, 200);
  t.ok(vid.media, 'a video layer is answered with its media');
  await check('POST', '/stream/layers/vid/media', { action: 'pause' }, 200);
  await check('POST', '/stream/layers/vid/media', { action: 'seek', positionMs: 500 }, 200);
  await check('POST', '/stream/layers/vid/media', { action: 'seek' }, 400);
  const poster = await fetch(`${s.base}/stream/assets/${video.id}/poster`);
  t.equal(poster.status, 200);
  t.equal(poster.headers.get('content-type'), 'image/jpeg', 'the poster is the JPEG the document says');
  exercised.add('get /stream/assets/{id}/poster');
  await check('GET', '/stream/layers', undefined, 200);
  await check('GET', '/stream/scene', undefined, 200);
  await check('DELETE', '/stream/layers/vid', undefined, 204);

  const text = { type: 'text', content: 'Bid {bid}', style: { fontSize: 20, color: '#ffffff' } };
  await check('POST', '/stream/layers', { id: 'a', content: text }, 201);
  await check('POST', '/api/stream/layers', { id: 'img', content: { type: 'image', src: asset.id } }, 201);
  await check('GET', '/stream/layers', undefined, 200);
  await check('GET', '/stream/layers/a', undefined, 200);
  await check('PUT', '/stream/layers/a', { content: text, zIndex: 3 }, 200);
  await check('PATCH', '/stream/layers/a', { transform: { x: 5 }, transition: { durationMs: 10 } }, 200);
  await check('PATCH', '/stream/layers/a/visibility', {}, 200);
  await check('POST', '/stream/layers/a/visibility', { visible: true }, 200);
  await check(
    'POST',
    '/stream/batch',
    {
      ops: [
        { op: 'create', layer: { id: 'b', content: { type: 'color', color: 'red' } } },
        { op: 'delete', id: 'b' },
      ],
    },
    200,
  );
  await check('PATCH', '/stream/data', { bid: 2, lot: 'Vase', sold: false }, 200);
  await check('GET', '/stream/data', undefined, 200);
  await check('POST', '/stream/chat', { user: 'ann', text: 'hello' }, 201);
  await check('GET', '/stream/chat', undefined, 200);
  await check('PUT', '/stream/scenes/saved', {}, 200);
  await check('GET', '/stream/scenes', undefined, 200);
  await check('GET', '/stream/scenes/saved', undefined, 200);
  await check('POST', '/stream/scenes/saved/activate', { transition: 'cut' }, 200);
  await check('POST', '/stream/outputs', { id: 'o1', kind: 'file', url: 'takes/o1.mp4', enabled: false }, 201);
  await check('GET', '/stream/outputs', undefined, 200);
  await check('GET', '/stream/outputs/main', undefined, 200);
  await check('PATCH', '/stream/outputs/o1', { encoder: { bitrateKbps: 800 } }, 200);
  await check('POST', '/stream/outputs/o1/stop', undefined, 200);
  await check('GET', '/stream/assets', undefined, 200);
  await check('GET', `/stream/assets/${asset.id}`, undefined, 200);
  const config = await check('GET', '/stream/config', undefined, 200);
  await check('PATCH', '/stream/config', { background: config.background }, 200);
  const scene = await check('GET', '/stream/scene', undefined, 200);
  await check('PUT', '/stream/scene', scene, 200);
  await check('GET', '/stream/status', undefined, 200);
  await check('POST', '/stream/start', undefined, 200);
  await check('POST', '/stream/pause', undefined, 200);
  await check('POST', '/stream/resume', undefined, 200);
  await check('GET', '/stream/status', undefined, 200);
  await check('POST', '/stream/stop', undefined, 200);
  await check('POST', '/stream/reset', undefined, 200);
  await check('DELETE', `/stream/assets/${asset.id}?force=true`, undefined, 200);
  await check('DELETE', '/stream/outputs/o1', undefined, 204);
  await check('DELETE', '/stream/scenes/saved', undefined, 204);
  await check('DELETE', '/stream/layers/a', undefined, 204);
  await check('GET', '/health', undefined, 200);
  await check('GET', '/api/health/ready', undefined, 200);

  // Errors: each status and code is one the document lists for that operation.
  await check('GET', '/stream/layers/nope', undefined, 404);
  await check('POST', '/stream/layers', { content: { type: 'text' } }, 400);
  await check('POST', '/stream/layers', '{"id":', 400);
  await check('PATCH', '/stream/layers/img', { opacity: 3 }, 400);
  await check('POST', '/stream/stop', undefined, 409);
  await check('POST', '/stream/layers', { id: 'img', content: text }, 409);
  await check('PATCH', '/stream/data', { '1bad': 1 }, 400);
  await check('GET', '/stream/scenes/nope', undefined, 404);
  await check('DELETE', '/stream/outputs/main', undefined, 400);
  await check('GET', '/stream/assets/123', undefined, 400);
  const stale = await s.call('PATCH', '/stream/layers/img', { opacity: 0.5 }, { 'if-match': '"1"' });
  t.equal(stale.status, 412);
  t.ok(
    findOperation(doc, 'PATCH', '/stream/layers/img')!.op['responses']['412']['x-error-codes'].includes(stale.body.error.code),
    '412 is documented',
  );

  t.ok(exercised.size >= 40, `${exercised.size} operations exercised`);
});
