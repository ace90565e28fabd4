import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { EnvSchema } from '../orchestrator/config/env.js';
import { anchors, brokenLinks, links, slug } from './helpers/markdown-links.js';

/**
 * The docs hold together: README.md is a short guide (under 10 KB) and docs/ the reference; every
 * relative link and image in them names a file that exists, every `#anchor` a heading of the file
 * it points to, and every environment variable the server reads is documented in
 * docs/configuration.md.
 */

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The README's size limit, bytes: a guide, with the reference in docs/. */
const README_MAX_BYTES = 10 * 1000;

/** README.md and every Markdown file under docs/, absolute paths. */
function docFiles(): string[] {
  const out = [resolve(REPO, 'README.md')];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) out.push(path);
    }
  };
  walk(resolve(REPO, 'docs'));
  return out;
}

t.test('the link checker finds what is broken (so a pass means something)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-docs-links-'));
  writeFileSync(join(dir, 'other.md'), '# Other page\n\n## Errors and `codes`\n\n## Errors and `codes`\n');
  const page = join(dir, 'page.md');
  writeFileSync(
    page,
    [
      '# Page',
      '',
      '[fine](other.md) [fine](other.md#other-page) [fine](#page) [fine](other.md#errors-and-codes-1)',
      '[missing file](nope.md) [missing anchor](other.md#nope) ![missing image](img/x.png) [own](#nope)',
      '[external, not checked](https://example.com/x.md#y) `[in code](nope.md)`',
      '```md',
      '[in a fence](nope.md)',
      '# not a heading',
      '```',
    ].join('\n'),
  );
  t.same(slug('Errors and `codes`'), 'errors-and-codes');
  t.same(slug('Current figures (2026-12-01, `391227b`)'), 'current-figures-2026-12-01-391227b');
  t.same(slug('The .env file'), 'the-env-file');
  t.same([...anchors(readFileSync(page, 'utf8'))], ['page'], 'a "#" line inside a fence is no heading');
  t.same(links(readFileSync(page, 'utf8')).length, 9, 'links in a fence or code span are not read');
  const broken = brokenLinks(page).map((b) => b.target);
  t.same(broken, ['nope.md', 'other.md#nope', 'img/x.png', '#nope']);
});

t.test('README.md and docs/*.md: every relative link and anchor resolves', async (t) => {
  const files = docFiles();
  t.ok(files.length >= 7, `${files.length} files: ${files.map((f) => relative(REPO, f)).join(', ')}`);
  let checked = 0;
  for (const file of files) {
    checked += links(readFileSync(file, 'utf8')).length;
    const broken = brokenLinks(file).map((b) => `${relative(REPO, b.file)}:${b.line} ${b.target}: ${b.problem}`);
    t.same(broken, [], `${relative(REPO, file)}: no broken links`);
  }
  t.ok(checked > 50, `${checked} links checked`);
});

t.test('README.md is a guide: under 10 KB, pointing into docs/', async (t) => {
  const readme = resolve(REPO, 'README.md');
  const bytes = statSync(readme).size;
  t.ok(bytes < README_MAX_BYTES, `README.md is ${bytes} bytes (limit ${README_MAX_BYTES})`);
  const targets = links(readFileSync(readme, 'utf8')).map((l) => l.target.split('#')[0]);
  for (const doc of ['api', 'websocket', 'configuration', 'architecture', 'operations', 'bench']) {
    t.ok(targets.includes(`docs/${doc}.md`), `README links to docs/${doc}.md`);
  }
});

t.test('every environment variable the server reads is in docs/configuration.md', async (t) => {
  const schema = Object.keys(EnvSchema.shape);
  // Variables read outside the schema (e.g. env['ENV_FILE'] before the schema runs).
  const configDir = resolve(REPO, 'orchestrator/config');
  const direct = readdirSync(configDir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(configDir, f), 'utf8').matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)\b|\[['"]([A-Z][A-Z0-9_]+)['"]\])/g)])
    .map((m) => (m[1] ?? m[2])!);
  const read = [...new Set([...schema, ...direct])].sort();
  t.ok(read.length > 40, `${read.length} variables read`);
  const doc = readFileSync(resolve(REPO, 'docs/configuration.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
  t.same(
    read.filter((n) => !documented.has(n)),
    [],
    'every variable is named (in backticks) in docs/configuration.md',
  );
});
