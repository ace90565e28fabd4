import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openApiDocument } from '../orchestrator/http/openapi/document.js';
import { docExamples, parseCurl, shellWords, type DocExample } from './helpers/doc-examples.js';
import { findOperation, issuesOf, requestSchema, validatorFor, type Json } from './helpers/openapi.js';

/**
 * Every request example in the docs (README.md and docs/*.md: curl commands with their `-d`
 * bodies, and JSON blocks marked `<!-- request: METHOD /path -->`) goes to a route of the OpenAPI
 * document, and its body validates against that route's request schema as the document gives it.
 */

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function markdownFiles(): string[] {
  const docs = readdirSync(resolve(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(REPO, 'docs', f));
  return [resolve(REPO, 'README.md'), ...docs];
}

/** What is wrong with an example against the document, or null. */
function problemOf(doc: Json, validate: ReturnType<typeof validatorFor>, e: DocExample): string | null {
  if (e.problem) return e.problem;
  const o = findOperation(doc, e.method, e.path);
  if (!o) return `${e.method} ${e.path} is not a route of the document`;
  if (e.mediaType) {
    const types = Object.keys(o.op['requestBody']?.['content'] ?? {});
    return types.includes(e.mediaType) || e.mediaType === 'application/octet-stream'
      ? null
      : `${e.method} ${o.path} takes ${types.join(', ') || 'no body'}, not ${e.mediaType}`;
  }
  if (e.body === undefined) return null;
  const schema = requestSchema(o.op);
  if (!schema) return `${e.method} ${o.path} takes no JSON body`;
  const issues = issuesOf(validate(schema).safeParse(e.body));
  return issues.length ? `${e.method} ${o.path}: ${issues.join('; ')}` : null;
}

t.test('the example reader reads curl lines and marked JSON blocks, and a wrong example fails', async (t) => {
  t.same(shellWords(`curl -s -X PATCH localhost:4200/a -d '{"a": "b c"}'   # note`), [
    'curl',
    '-s',
    '-X',
    'PATCH',
    'localhost:4200/a',
    '-d',
    '{"a": "b c"}',
  ]);
  t.same(parseCurl(['curl', '-s', 'http://h:1/stream/x?y=1', '-d', '{}']), {
    method: 'POST',
    path: '/stream/x',
    data: '{}',
    contentType: null,
  });
  const sdp = docExamples(
    "```sh\ncurl -X POST localhost:4200/stream/chat -H 'Content-Type: application/sdp' --data-binary @offer.sdp\n```",
    'y.md',
  );
  t.equal(sdp[0]!.mediaType, 'application/sdp', 'a body of another type is not read as JSON');
  t.match(
    problemOf(openApiDocument() as unknown as Json, validatorFor(openApiDocument() as unknown as Json), sdp[0]!),
    /takes application\/json, not application\/sdp/,
  );
  const md = [
    '```sh',
    "curl -s -X PATCH localhost:4200/stream/layers/overlay -H 'content-type: application/json' \\",
    `  -d '{"opacity": 7}'`,
    "curl -s -X POST localhost:4200/stream/nope -d '{}'",
    'curl -s localhost:4200/stream/status # fine',
    `curl -s -X POST $SM/stream/chat -d '{"user":"ann",`,
    `  "text":"a # in a quote, over two lines"}'`,
    '```',
    '',
    '<!-- request: POST /stream/chat -->',
    '',
    '```jsonc',
    '{ "user": "ann", // who',
    '  "text": "hi", }',
    '```',
    '<!-- request: POST /stream/chat -->',
    '```json',
    '{ "user": "ann" }',
    '```',
  ].join('\n');
  const examples = docExamples(md, 'x.md');
  t.equal(examples.length, 6);
  const doc = openApiDocument() as unknown as Json;
  const validate = validatorFor(doc);
  const problems = examples.map((e) => problemOf(doc, validate, e));
  t.match(problems[0], /PATCH \/stream\/layers\/\{id\}: opacity/, 'a body outside the schema fails, naming the field');
  t.equal(examples[0]!.where, 'x.md:2', 'where the command starts');
  t.match(problems[1], /not a route/);
  t.equal(problems[2], null);
  t.equal(problems[3], null, 'a -d body over two lines (a quote still open) is one command');
  t.same(examples[3]!.body, { user: 'ann', text: 'a # in a quote, over two lines' });
  t.equal(problems[4], null, 'JSON with comments and trailing commas is read');
  t.match(problems[5], /text/, 'a missing required field fails');
});

t.test('every request example in README.md and docs/ validates against the document', async (t) => {
  const doc = openApiDocument() as unknown as Json;
  const validate = validatorFor(doc);
  let withBody = 0;
  let all = 0;
  for (const file of markdownFiles()) {
    for (const e of docExamples(readFileSync(file, 'utf8'), relative(REPO, file))) {
      all++;
      if (e.body !== undefined) withBody++;
      t.equal(problemOf(doc, validate, e), null, `${e.where}: ${e.method} ${e.path}`);
    }
  }
  t.ok(all >= 20, `${all} examples read`);
  t.ok(withBody >= 10, `${withBody} of them with a JSON body`);
});
