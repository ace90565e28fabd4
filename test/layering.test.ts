/**
 * The orchestrator's folders form layers: each may import only the folders below it, so there is
 * no circle between them. config/ and auth/ are at the bottom (auth/ reads config/'s token
 * formats), scene/ is the layer model under state/ and motion/. A test, not a review habit: an
 * import that runs against the layers fails here, naming the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import t from 'tap';

const ROOT = 'orchestrator';

/** The orchestrator folders each folder may import (besides itself, shared/ and the other top-level folders). */
const ALLOWED: Record<string, readonly string[]> = {
  config: [],
  auth: ['config'],
  metrics: ['auth', 'config'],
  scene: [],
  motion: ['scene'],
  chat: ['motion', 'scene'],
  state: ['config', 'metrics', 'scene'],
  dashboard: ['auth'],
  assets: ['config', 'metrics', 'scene', 'state'],
  ws: ['(root)', 'auth', 'chat', 'config', 'metrics', 'motion', 'scene', 'state'],
};

/** Folder circles that another change of issue 26 removes (render/ giving output/ a FrameSink); none may be added. */
const KNOWN_CIRCLES = new Set(['output <-> render']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'ui' ? [] : sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The orchestrator folder of a path (`(root)` for files directly in orchestrator/), or null outside it. */
function folderOf(path: string): string | null {
  const rel = relative(ROOT, path);
  if (rel.startsWith('..')) return null;
  const parts = rel.split('/');
  return parts.length > 1 ? parts[0]! : '(root)';
}

/** Folder -> folder it imports -> the first file that does. */
const edges = new Map<string, Map<string, string>>();
/** File -> the orchestrator files it imports. */
const imports = new Map<string, string[]>();
for (const file of sources(ROOT)) {
  const from = folderOf(file)!;
  imports.set(file, []);
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts');
    const to = folderOf(target);
    if (to === null) continue;
    imports.get(file)!.push(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, file);
  }
}

/** The import circles among orchestrator files (Tarjan's strongly connected components of more than one file). */
function fileCircles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of imports.get(v) ?? []) {
      if (!imports.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1) circles.push(component.sort());
  };
  for (const v of imports.keys()) if (!index.has(v)) visit(v);
  return circles;
}

t.test('each layered folder imports only the folders below it', async (t) => {
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    const bad = [...(edges.get(folder) ?? [])].filter(([to]) => !allowed.includes(to));
    t.same(bad.map(([to, file]) => `${file} imports ${to}/`), [], `${folder}/ imports only ${allowed.length ? allowed.join(', ') : 'shared/'}`);
  }
});

t.test('no import circle between orchestrator files', async (t) => {
  t.same(fileCircles(), []);
});

t.test('no circle between two orchestrator folders', async (t) => {
  // The files directly in orchestrator/ are no one layer: app.ts wires everything, pipeline.ts
  // sits between render/output and http/ws. The file check above covers them.
  const circles: string[] = [];
  for (const [a, targets] of edges) {
    for (const b of targets.keys()) if (a !== '(root)' && b !== '(root)' && a < b && edges.get(b)?.has(a)) circles.push(`${a} <-> ${b}`);
  }
  t.same(circles.filter((c) => !KNOWN_CIRCLES.has(c)), [], `two-folder circles: ${circles.join(', ') || 'none'}`);
  t.ok(edges.get('config') === undefined, 'config/ imports no other orchestrator folder');
});
