import ts from 'typescript';

/**
 * The request examples of the Markdown docs: `curl` commands in shell code blocks (their method,
 * path and `-d` body) and JSON code blocks marked with the request they are the body of
 * (`<!-- request: POST /stream/layers -->` on the line before the fence; JSON with comments and
 * trailing commas is read as `tsconfig.json` is, by TypeScript's own parser).
 */

/** One example: where it is, the request, and its body (undefined: none). */
export interface DocExample {
  where: string;
  method: string;
  path: string;
  body: unknown;
  /** A body that is not JSON (`-H 'content-type: application/sdp'`, or `-d @file`): its media type. */
  mediaType?: string;
  /** Set when the example's text could not be read (unparsable JSON, a curl without a URL). */
  problem?: string;
}

/** Fenced code blocks: their info string, text, and the line before the fence. */
function fences(markdown: string): { info: string; text: string; line: number; before: string }[] {
  const lines = markdown.split('\n');
  const out: { info: string; text: string; line: number; before: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*(```+|~~~+)\s*([\w-]*)/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trim().startsWith(fence)) j++;
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    out.push({ info: open[2]!.toLowerCase(), text: lines.slice(i + 1, j).join('\n'), line: i + 1, before: k >= 0 ? lines[k]!.trim() : '' });
    i = j;
  }
  return out;
}

/**
 * Splits one shell command line into words: single and double quotes, backslash escapes outside
 * single quotes, a `#` word starts a comment. Enough for the docs' curl lines (no expansions).
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    } else if (c === '"') {
      let s = '';
      for (i++; i < line.length && line[i] !== '"'; i++) s += line[i] === '\\' && i + 1 < line.length ? line[++i] : line[i];
      word = (word ?? '') + s;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The request a curl command makes: method, URL path and `-d` body (as text), or null when it is not a curl command. */
export function parseCurl(
  words: string[],
): { method: string; path: string | null; data: string | null; contentType: string | null } | null {
  if (words[0] !== 'curl') return null;
  let method: string | null = null;
  let data: string | null = null;
  let url: string | null = null;
  let contentType: string | null = null;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-X' || w === '--request') method = words[++i] ?? null;
    else if (w === '-d' || w === '--data' || w === '--data-raw' || w === '--data-binary') data = words[++i] ?? null;
    else if (w === '-H' || w === '--header') {
      const h = /^content-type:\s*([^;\s]+)/i.exec(words[++i] ?? '');
      if (h) contentType = h[1]!.toLowerCase();
    } else if (['-o', '--output', '-F', '--form', '-u', '--user', '-w', '--write-out'].includes(w)) i++;
    else if (!w.startsWith('-') && url === null) url = w;
  }
  const path = url === null ? null : new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`).pathname;
  return { method: (method ?? (data === null ? 'GET' : 'POST')).toUpperCase(), path, data, contentType };
}

/**
 * The shell commands of a code block: lines joined where one ends in a backslash or inside a
 * quote, each with the index of the line it starts on.
 */
export function commands(block: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  let text = '';
  let start = 0;
  let quote: string | null = null;
  const lines = block.split('\n');
  lines.forEach((line, i) => {
    if (text === '' && quote === null) start = i;
    for (let j = 0; j < line.length; j++) {
      const c = line[j]!;
      if (quote) {
        if (c === quote) quote = null;
        else if (c === '\\' && quote === '"') j++;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '\\') j++;
      else if (c === '#' && (j === 0 || /\s/.test(line[j - 1]!))) break;
    }
    if (quote !== null) text += `${line}\n`;
    else if (line.endsWith('\\')) text += `${line.slice(0, -1)} `;
    else {
      out.push({ text: text + line, start });
      text = '';
    }
  });
  if (text) out.push({ text, start });
  return out;
}

/** JSON with comments and trailing commas (TypeScript's tsconfig reader). */
function parseJsonc(text: string): { value: unknown; error: string | null } {
  const { config, error } = ts.parseConfigFileTextToJson('example.jsonc', text);
  return { value: config, error: error ? ts.flattenDiagnosticMessageText(error.messageText, '\n') : null };
}

/** Every request example of one Markdown text. */
export function docExamples(markdown: string, file: string): DocExample[] {
  const out: DocExample[] = [];
  for (const f of fences(markdown)) {
    const marker = /^<!--\s*request:\s*([A-Z]+)\s+(\S+)\s*-->$/.exec(f.before);
    if (marker && /^(json|jsonc|json5)?$/.test(f.info)) {
      const { value, error } = parseJsonc(f.text);
      out.push({ where: `${file}:${f.line}`, method: marker[1]!, path: marker[2]!, body: value, ...(error ? { problem: error } : {}) });
      continue;
    }
    if (!['sh', 'bash', 'shell', 'console'].includes(f.info)) continue;
    // Each command with its continuation lines (a trailing backslash, or a quote still open) joined; `where` names the line it starts on.
    for (const { text: line, start } of commands(f.text)) {
      const curl = parseCurl(shellWords(line.replace(/^\s*\$\s*/, '')));
      if (!curl) continue;
      const where = `${file}:${f.line + 1 + start}`;
      if (curl.path === null) {
        out.push({ where, method: curl.method, path: '', body: undefined, problem: 'no URL' });
        continue;
      }
      let body: unknown;
      let problem: string | undefined;
      let mediaType: string | undefined;
      if (curl.data !== null && (curl.data.startsWith('@') || (curl.contentType !== null && !curl.contentType.endsWith('json')))) {
        // A file's bytes or a body of another type: only its route and media type are checked.
        mediaType = curl.contentType ?? 'application/octet-stream';
      } else if (curl.data !== null) {
        try {
          body = JSON.parse(curl.data);
        } catch (err) {
          problem = `the -d body is not JSON: ${(err as Error).message}`;
        }
      }
      out.push({ where, method: curl.method, path: curl.path, body, ...(mediaType ? { mediaType } : {}), ...(problem ? { problem } : {}) });
    }
  }
  return out;
}
