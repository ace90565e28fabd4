/**
 * `process.env` for a child node process a test starts (a server, the CLI, WHEP viewers), with
 * tap's process-info loader taken out of NODE_OPTIONS. tap puts it there so that children report
 * coverage; it hooks every module the child loads (about 1.7 s of CPU for a server start on CI's
 * machine), and `npm test` runs without coverage. Other NODE_OPTIONS are kept.
 * @param extra variables set on top
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const options = (process.env['NODE_OPTIONS'] ?? '')
    .split(/\s+/)
    .filter((o) => o && !o.includes('@tapjs/processinfo'))
    .join(' ');
  return { ...process.env, NODE_OPTIONS: options, ...extra };
}
