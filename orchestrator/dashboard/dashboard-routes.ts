import { fileURLToPath } from 'node:url';
import type { Router } from '@koa/router';
import { send } from '@koa/send';
import type { Context } from 'koa';
import { AppError } from '../../shared/errors.js';
import { DASHBOARD_FILE_NAME } from '../auth/policy.js';

/**
 * Where `npm run build` puts the dashboard (`tsc -p orchestrator/dashboard/ui` plus its HTML and
 * CSS), relative to this compiled file (`dist/orchestrator/dashboard/`).
 */
export const DASHBOARD_ROOT = fileURLToPath(new URL('../../ui/orchestrator/dashboard/ui/', import.meta.url));

/** The page's files change with each build and carry no hash in their names: browsers revalidate. */
const REVALIDATE = 'no-cache';

/**
 * The admin dashboard: `GET /` answers `index.html`, `GET /ui/<file>` its scripts and styles, from
 * `root` (default `DASHBOARD_ROOT`); that these paths are open to all is the access policy's
 * (`isDashboardPath` in auth/policy.ts). A name that is not a file there is a 404 (`@koa/send`
 * refuses hidden files and paths leaving `root`). The page asks for a token itself when the API wants one.
 */
export function dashboardRoutes(router: Router, root = DASHBOARD_ROOT): void {
  const opts = {
    root,
    index: false as const,
    hidden: false,
    setHeaders: (res: { setHeader(name: string, value: string): void }) => res.setHeader('Cache-Control', REVALIDATE),
  };
  const serve = async (ctx: Context, file: string): Promise<void> => {
    try {
      if (!DASHBOARD_FILE_NAME.test(file)) throw new Error('not a dashboard file name');
      await send(ctx, file, opts);
    } catch {
      // Whatever the reason (no such file, a refused name, no build), say only that it is not here.
      throw new AppError('SM_ERR_NOT_FOUND', 'No such dashboard file (is the dashboard built? npm run build)');
    }
  };
  router.get('/', (ctx) => serve(ctx, 'index.html'));
  router.get('/ui/:file', (ctx) => serve(ctx, ctx.params['file']!));
}
