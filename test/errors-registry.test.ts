import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';
import { ERRORS } from '../shared/errors.js';

/**
 * `shared/errors.ts`'s registry is the one list of error codes: every code the program uses is in
 * it, each error class has its own code, no code in it is dead, and docs/api.md documents each one.
 * The program's TypeScript sources are read with the TypeScript parser (string literals only, so a
 * code named in a comment counts for nothing).
 */

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The program: what runs in the server and its workers. Not the dashboard's browser code (a client). */
const SOURCE_DIRS = ['orchestrator', 'pool', 'pixels', 'workers', 'shared'];
const SKIP = ['orchestrator/dashboard/ui'];
const REGISTRY_FILE = 'shared/errors.ts';
const API_DOC = 'docs/api.md';
const CODE = /^SM_ERR_[A-Z0-9_]+$/;

const registry = Object.keys(ERRORS);

/** Repository-relative paths of the program's `.ts` files. */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = `${dir}/${e.name}`;
      if (SKIP.includes(path)) continue;
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(path);
    }
  };
  for (const d of SOURCE_DIRS) walk(d);
  return out.sort();
}

/** A class that claims a code: `readonly code = 'SM_ERR_X'`, `this.code = 'SM_ERR_X'` or `super('SM_ERR_X', ...)`. */
interface Claim {
  code: string;
  owner: string;
}

interface Scan {
  files: number;
  claims: Claim[];
  /** Every `SM_ERR_*` string literal outside the registry file, with where it is. */
  used: Map<string, string[]>;
}

function codeOf(node: ts.Node | undefined): string | undefined {
  // `'SM_ERR_X' satisfies ErrorCode` and `'SM_ERR_X' as const` claim the literal inside.
  while (node && (ts.isSatisfiesExpression(node) || ts.isAsExpression(node) || ts.isParenthesizedExpression(node))) node = node.expression;
  return node && ts.isStringLiteralLike(node) && CODE.test(node.text) ? node.text : undefined;
}

function scan(): Scan {
  const claims: Claim[] = [];
  const used = new Map<string, string[]>();
  const files = sourceFiles();
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(join(REPO, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const at = (node: ts.Node): string => `${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
    const visit = (node: ts.Node, cls: string | undefined): void => {
      if (ts.isClassLike(node)) cls = `${node.name?.text ?? '(anonymous class)'} (${at(node)})`;
      if (file !== REGISTRY_FILE) {
        const literal = codeOf(node);
        if (literal) used.set(literal, [...(used.get(literal) ?? []), at(node)]);
      }
      if (cls) {
        let claimed: string | undefined;
        if (ts.isPropertyDeclaration(node) && node.name.getText(sf) === 'code') claimed = codeOf(node.initializer);
        else if (
          ts.isBinaryExpression(node) &&
          node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
          node.left.getText(sf) === 'this.code'
        )
          claimed = codeOf(node.right);
        else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword) claimed = codeOf(node.arguments[0]);
        if (claimed) claims.push({ code: claimed, owner: cls });
      }
      ts.forEachChild(node, (child) => visit(child, cls));
    };
    visit(sf, undefined);
  }
  return { files: files.length, claims, used };
}

const { files, claims, used } = scan();

t.test('the scan reads the program', async (t) => {
  t.ok(registry.length >= 30, `${registry.length} codes in ${REGISTRY_FILE}`);
  t.ok(files > 100, `${files} source files read`);
  t.ok(claims.length >= 5, `${claims.length} error classes with a code found`);
  t.ok(used.size >= 30, `${used.size} distinct codes named in the sources`);
});

t.test('every error class has a code of its own from the registry', async (t) => {
  const unregistered = claims.filter((c) => !registry.includes(c.code)).map((c) => `${c.code}: ${c.owner}`);
  t.same(unregistered, [], `every code an error class carries is a key of ERRORS in ${REGISTRY_FILE}`);
  const owners = new Map<string, string[]>();
  for (const c of claims) owners.set(c.code, [...(owners.get(c.code) ?? []), c.owner]);
  const shared = [...owners].filter(([, o]) => o.length > 1).map(([code, o]) => `${code}: ${o.join(', ')}`);
  t.same(shared, [], 'no two error classes carry the same code');
});

t.test('every code the sources name is in the registry', async (t) => {
  const unknown = [...used].filter(([code]) => !registry.includes(code)).map(([code, where]) => `${code}: ${where.join(', ')}`);
  t.same(unknown, [], `every SM_ERR_* string in ${SOURCE_DIRS.join(', ')} is a key of ERRORS`);
});

t.test('no dead codes: every code in the registry is used by the program', async (t) => {
  const dead = registry.filter((code) => !used.has(code));
  t.same(dead, [], `every key of ERRORS appears as a string outside ${REGISTRY_FILE} (use it, or remove it)`);
});

t.test(`${API_DOC} documents every code in the registry`, async (t) => {
  const path = join(REPO, API_DOC);
  if (!existsSync(path)) {
    t.fail(`${relative(REPO, path)} is missing: the API reference with a table of every error code`);
    return;
  }
  const documented = new Set([...readFileSync(path, 'utf8').matchAll(/\bSM_ERR_[A-Z0-9_]+\b/g)].map((m) => m[0]));
  t.same(
    registry.filter((code) => !documented.has(code)),
    [],
    `every key of ERRORS is named in ${API_DOC}`,
  );
  t.same(
    [...documented].filter((code) => !registry.includes(code)).sort(),
    [],
    `every code ${API_DOC} names is a key of ERRORS (none removed or misspelt)`,
  );
});
