import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Just enough Markdown reading to check a document's relative links: its headings (as GitHub
 * turns them into anchors) and its links and images, outside fenced code blocks and code spans.
 * No Markdown package is installed, and these docs use only the plain forms below.
 */

/** A link or image found in a Markdown file: its target as written, and the 1-based line. */
export interface MdLink {
  target: string;
  line: number;
}

/** One link that does not resolve: the file and line it is on, the target, and why. */
export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  problem: string;
}

/**
 * The lines of `text` that are prose, with fenced code blocks (``` or ~~~, CommonMark: closed by a
 * fence of the same character at least as long) blanked out and code spans removed, so that
 * neither a `# comment` in a shell block nor a `[x](y)` in backticks counts.
 */
export function proseLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  let fence: { char: string; length: number } | null = null;
  return lines.map((line) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m && m[1]![0] === fence.char && m[1]!.length >= fence.length && line.trim() === m[1]) fence = null;
      return '';
    }
    if (m) {
      fence = { char: m[1]![0]!, length: m[1]!.length };
      return '';
    }
    return line.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '');
  });
}

/**
 * GitHub's anchor for a heading: the heading's text (links reduced to their text, code spans to
 * their content, HTML tags dropped), lowercased, every character that is not a letter, digit,
 * space, `-` or `_` removed, spaces turned into `-`. A repeated heading gets `-1`, `-2`... in order.
 * Source: github.com/Flet/github-slugger (the rule GitHub's renderer uses).
 */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/<[^>]+>/g, '');
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered) and any `id="..."`/`name="..."`. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  // Headings are read with code spans kept (they are part of the heading's text).
  const raw = text.split(/\r?\n/);
  proseLines(text).forEach((prose, i) => {
    if (prose === '' && raw[i] !== '') return; // inside a fence
    const h = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(raw[i]!);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const a of prose.matchAll(/<[a-z][^>]*\s(?:id|name)="([^"]+)"/gi)) out.add(a[1]!);
  });
  return out;
}

/**
 * Every link and image target in a Markdown file: inline `[text](target "title")` and
 * `![alt](target)`, reference definitions `[id]: target`, and HTML `href="..."`/`src="..."`.
 */
export function links(text: string): MdLink[] {
  const out: MdLink[] = [];
  const inline = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
  proseLines(text).forEach((prose, i) => {
    for (const m of prose.matchAll(inline)) out.push({ target: m[1]!.replace(/^<|>$/g, ''), line: i + 1 });
    const def = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(prose);
    if (def) out.push({ target: def[1]!.replace(/^<|>$/g, ''), line: i + 1 });
    for (const m of prose.matchAll(/<(?:a|img)\s[^>]*(?:href|src)="([^"]*)"/gi)) out.push({ target: m[1]!, line: i + 1 });
  });
  return out;
}

/**
 * The links of the Markdown file `file` that do not resolve: a relative path that names no file or
 * folder, or a `#anchor` that is not a heading of the Markdown file it points to (the file itself
 * for `#anchor` alone). Links with a scheme (`https:`, `mailto:`) or to another host (`//`) are
 * not checked: the tests run without the network.
 */
export function brokenLinks(file: string): BrokenLink[] {
  const text = readFileSync(file, 'utf8');
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (path: string): Set<string> => {
    let a = anchorCache.get(path);
    if (!a) anchorCache.set(path, (a = anchors(readFileSync(path, 'utf8'))));
    return a;
  };
  for (const { target, line } of links(text)) {
    const bad = (problem: string): void => void broken.push({ file, line, target, problem });
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    if (target === '') {
      bad('empty link target');
      continue;
    }
    const hash = target.indexOf('#');
    const pathPart = hash < 0 ? target : target.slice(0, hash);
    const anchor = hash < 0 ? null : target.slice(hash + 1);
    let path: string;
    try {
      path = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart.split('?')[0]!));
    } catch {
      bad('the path is not valid percent-encoding');
      continue;
    }
    if (pathPart.startsWith('/')) {
      bad('an absolute path: use a path relative to this file');
      continue;
    }
    if (!existsSync(path)) {
      bad(`no such file: ${path}`);
      continue;
    }
    if (anchor === null) continue;
    if (!statSync(path).isFile() || !path.endsWith('.md')) {
      bad('an anchor into something that is not a Markdown file');
      continue;
    }
    if (!anchorsOf(path).has(decodeURIComponent(anchor))) bad(`no heading with the anchor #${anchor} in ${path}`);
  }
  return broken;
}
