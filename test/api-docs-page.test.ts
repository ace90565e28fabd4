import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openApiDocument } from '../orchestrator/http/openapi/document.js';
import { launchChromium } from './helpers/browser.js';
import { operations, type Json } from './helpers/openapi.js';
import { startServer } from './helpers/server.js';

/**
 * `/docs` in Debian's Chromium (playwright-core): Swagger UI, served from this server, renders
 * every operation of `/openapi.json` under the server's Content-Security-Policy with no console
 * error and no CSP violation, and its "Try it out" calls the API with a token given in "Authorize".
 */

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ARTIFACTS = resolve(REPO, 'test-artifacts');
const VIEWER = 'v'.repeat(8) + '0123456789abcdef';

/** Records CSP violations in the page (an init script runs outside the page's CSP). */
const CSP_PROBE = `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`;

t.test('/docs renders every operation in Chromium, CSP-clean, and Try it out works with a token', async (t) => {
  const s = await startServer({ AUTH_TOKENS: `viewer:${VIEWER}` });
  t.teardown(() => s.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.addInitScript(CSP_PROBE);
  const errors: string[] = [];
  const outside: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(s.base) && !r.url().startsWith('data:')) outside.push(r.url());
  });

  const res = await page.goto(`${s.base}/docs`);
  t.equal(res?.status(), 200);
  await page.waitForSelector('.opblock', { timeout: 20_000 });
  const expected = operations(openApiDocument() as unknown as Json).length;
  await page
    .waitForFunction(`document.querySelectorAll('.opblock').length >= ${expected}`, undefined, { timeout: 10_000 })
    .catch(() => undefined);
  t.equal(await page.locator('.opblock').count(), expected, `every operation is listed (${expected})`);
  t.match(await page.locator('.info .title').innerText(), /Stream Manager/);

  // Authorize with a viewer token, then call GET /stream/status from the page.
  await page.click('button.authorize');
  await page.fill('.modal-ux input[type=text], .modal-ux input[type=password]', VIEWER);
  await page.click('.modal-ux button.authorize');
  await page.click('.modal-ux button.btn-done');
  await page.click('#operations-stream-getStatus .opblock-summary');
  await page.click('#operations-stream-getStatus button.try-out__btn');
  await page.click('#operations-stream-getStatus button.execute');
  const status = page.locator('#operations-stream-getStatus .live-responses-table tbody .response-col_status').first();
  await status.waitFor({ timeout: 10_000 });
  t.equal((await status.innerText()).trim(), '200', 'the page called the API with the token: 200');
  t.match(await page.locator('#operations-stream-getStatus .live-responses-table .microlight').first().innerText(), /"isLive"/);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: resolve(ARTIFACTS, 'api-docs.png'), fullPage: false });
  t.same(await page.evaluate('window.__csp'), [], 'no CSP violation');
  t.same(errors, [], 'no console error');
  t.same(outside, [], 'nothing loaded from another origin');
});
