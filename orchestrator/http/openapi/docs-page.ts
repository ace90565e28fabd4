/**
 * The `/docs` page: Swagger UI (swagger-ui-dist, served from this server) showing `/openapi.json`.
 * Clean under the server's Content-Security-Policy (scripts from this origin only): the page has
 * no inline script; Swagger UI starts from {@link DOCS_INIT_JS}, served as `/docs/init.js`.
 */

/** The page. Absolute paths, like the dashboard's: it is served at `/docs`. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Stream Manager API</title>
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

/**
 * Starts Swagger UI on `/openapi.json`: no validator badge (it would call validator.swagger.io),
 * no top bar (its URL field would load other documents), authorisation not kept across reloads
 * (a token stays in the page only).
 */
export const DOCS_INIT_JS = `'use strict';
window.addEventListener('load', function () {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    persistAuthorization: false,
    displayRequestDuration: true,
  });
});
`;
