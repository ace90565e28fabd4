import type { Layer } from '../shared/scene.js';
import type { OutputStatus } from '../shared/output-status.js';
import type { OutputView } from '../shared/outputs.js';
import type { StreamState } from '../shared/stream-state.js';

/**
 * Human output: short lines and aligned tables. Machine output (`--json`) never goes through
 * here: it is the API's answer as JSON.
 */

/** C0 and C1 control characters but tab and newline (escape sequences could rewrite the terminal). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text from the server made safe for a terminal: control characters (a layer's text, a chat line
 * or an id echoed in an error may hold an escape sequence) shown as `\u001b`-style escapes.
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Rows as an aligned table under a header row; every cell on one line. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((r) => r.map((c) => c.replace(/\s+/g, ' ')));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `s` cut to `max` characters with an ellipsis. */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `live`, `live, paused`, or `stopped` (with the error that stopped it). */
export function streamLine(s: StreamState): string {
  const state = s.isLive ? (s.isPaused ? 'live, paused' : 'live') : 'stopped';
  return s.error ? `${state} (error: ${s.error})` : state;
}

/** Seconds as h:mm:ss. */
function duration(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(t / 3600)}:${String(Math.floor(t / 60) % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
}

/** A bitrate in bits per second as `2.50 Mbit/s`, or `-`. */
export function bitrate(bps: number | null): string {
  return bps === null ? '-' : bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${(bps / 1e3).toFixed(0)} kbit/s`;
}

/** The stream state and its outputs (`status`). */
export function statusText(s: StreamState & { outputs: (OutputStatus | OutputView)[] }): string {
  const lines = [
    streamLine(s),
    `fps ${s.fps} / ${s.targetFPS}   frames ${s.frameCount}   dropped ${s.droppedFrames}   render ${s.averageRenderTime.toFixed(1)} ms` +
      (s.startTime ? `   up ${duration(Date.now() - s.startTime)}` : ''),
  ];
  if (s.outputs.length) lines.push('', outputsTable(s.outputs));
  return lines.join('\n');
}

/** Outputs as a table: id, kind, state, url, restarts, bitrate. */
export function outputsTable(outputs: (OutputStatus | OutputView)[]): string {
  return table(
    ['ID', 'KIND', 'STATE', 'ENABLED', 'RESTARTS', 'BITRATE', 'WHERE'],
    outputs.map((o) => [
      o.id,
      'kind' in o ? o.kind : '-',
      o.state,
      'enabled' in o ? (o.enabled ? 'yes' : 'no') : '-',
      String(o.restarts),
      bitrate(o.bitrateBps),
      o.file ?? o.url ?? ('location' in o ? (o.location ?? '-') : '-'),
    ]),
  );
}

/** What a layer shows, in a few words. */
export function contentSummary(layer: Layer): string {
  const c = layer.content;
  switch (c.type) {
    case 'text':
      return JSON.stringify(cut(c.content, 40));
    case 'color':
      return c.color;
    case 'image':
      return cut(c.src, 40);
    case 'character':
      return `${cut(c.modelUrl, 30)} (${c.animation ?? 'idle'})`;
    case 'chat':
      return `${c.maxMessages} messages`;
    case 'video':
      return cut(c.src, 40);
    default:
      return '';
  }
}

/** Layers as a table, front first (as the dashboard lists them). */
export function layersTable(layers: Layer[]): string {
  return table(
    ['ID', 'TYPE', 'Z', 'VISIBLE', 'OPACITY', 'X,Y', 'SHOWS'],
    [...layers]
      .reverse()
      .map((l) => [
        l.id,
        l.content.type,
        String(l.zIndex),
        l.visible ? 'yes' : 'no',
        String(l.opacity),
        `${l.transform.x},${l.transform.y}`,
        contentSummary(l),
      ]),
  );
}

/** One layer in a line: id, type, visibility, opacity, position and what it shows. */
export function layerLine(l: Layer): string {
  return `${l.id}: ${l.content.type} ${contentSummary(l)}, ${l.visible ? 'visible' : 'hidden'}, opacity ${l.opacity}, at ${l.transform.x},${l.transform.y}, z ${l.zIndex}`;
}
