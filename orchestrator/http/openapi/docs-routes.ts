import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { Router } from '@koa/router';
import { send } from '@koa/send';
import { AppError } from '../../../shared/errors.js';
import { asyncApiDocument } from './asyncapi.js';
import { DOCS_HTML, DOCS_INIT_JS } from './docs-page.js';
import { openApiDocument } from './document.js';

/** swagger-ui-dist's folder in node_modules (its files are served as they are). */
const SWAGGER_UI_ROOT = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** The only files of it the page loads; anything else under `/docs/` is a 404. */
const SWAGGER_UI_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']);
/** swagger-ui-dist's files change only with its version: an hour in a cache is fine. */
const CACHE = 'public, max-age=3600';

/**
 * The API's documents: `GET /openapi.json` (OpenAPI 3.1), `GET /asyncapi.json` (AsyncAPI 3.0, the
 * WebSocket protocol), `GET /docs` (Swagger UI) and `GET /docs/<file>` (its script, stylesheet
 * and icon from swagger-ui-dist, and `init.js`). Open to all (auth/policy.ts `isApiDocsPath`):
 * the documents are generated from the schemas alone and hold no configuration value.
 */
export function apiDocsRoutes(router: Router): void {
  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = openApiDocument();
  });
  router.get('/asyncapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = asyncApiDocument(openApiDocument().info.version);
  });
  router.get('/docs', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = DOCS_HTML;
  });
  router.get('/docs/:file', async (ctx) => {
    const file = ctx.params['file']!;
    if (file === 'init.js') {
      ctx.set('Cache-Control', 'no-cache');
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = DOCS_INIT_JS;
      return;
    }
    if (!SWAGGER_UI_FILES.has(file)) throw new AppError('SM_ERR_NOT_FOUND', `No such docs file: ${file.slice(0, 128)}`);
    await send(ctx, file, {
      root: SWAGGER_UI_ROOT,
      index: false,
      hidden: false,
      setHeaders: (res: { setHeader(name: string, value: string): void }) => res.setHeader('Cache-Control', CACHE),
    });
  });
}
