import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import type { ChatLine } from '../../shared/chat.js';
import type { LayerContent } from '../../shared/scene.js';
import { cssFont } from './text.js';
import { drawnTextStyle } from '../render-limits.js';
import type { PreparedContent, RenderEnv } from './types.js';

type ChatContent = Extract<LayerContent, { type: 'chat' }>;

/** Line height and padding as multiples of the font size (as text layers). */
const LINE_HEIGHT = 1.25;
const PADDING = 0.3;
/** Gap between messages, as a multiple of the font size. */
const GAP = 0.25;

let measureCtx: SKRSContext2D | undefined;

/** `words` greedily wrapped to `maxWidth` pixels; a word wider than that gets a line of its own. */
function wrap(ctx: SKRSContext2D, text: string, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(candidate).width > maxWidth) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The chat overlay: a fixed box `width` wide and high enough for `maxMessages` one-line messages,
 * each with its padding above and below and a gap between them, so that many short messages always
 * show whole. Messages stack up from the bottom (newest last), each as `user: text` wrapped to
 * the box, on its own background strip when the style has one, at its fade alpha. The orchestrator
 * adds `lines` to the content at each frame time (see orchestrator/chat/chat-feed.ts). An older
 * message that does not fit whole (the newer ones wrapped to more lines) is left out rather than
 * cut; only a newest message too tall for the box on its own is cut, to the rows that fit.
 */
export function prepareChat(content: ChatContent, env: RenderEnv): PreparedContent {
  const style = drawnTextStyle(content.style, env.canvas);
  const lines: ChatLine[] = (content as ChatContent & { lines?: ChatLine[] }).lines ?? [];
  const fs = style.fontSize;
  const lineHeight = fs * LINE_HEIGHT;
  const pad = Math.round(fs * PADDING);
  const gap = Math.round(fs * GAP);
  /** A message of `rows` lines, padding included (pixels). */
  const blockHeight = (rows: number): number => rows * lineHeight + 2 * pad;
  const height = Math.ceil(content.maxMessages * blockHeight(1) + (content.maxMessages - 1) * gap);
  measureCtx ??= createCanvas(1, 1).getContext('2d');
  const ctx0 = measureCtx;
  ctx0.font = cssFont(style);
  const blocks = lines.map((l) => ({
    line: l,
    rows: wrap(ctx0, `${l.user}: ${l.text}`, Math.max(1, content.width - 2 * pad)),
    userWidth: ctx0.measureText(`${l.user}:`).width,
  }));
  return {
    natural: { width: content.width, height },
    draw(ctx, width, h) {
      const sx = width / content.width;
      const sy = h / height;
      ctx.save();
      ctx.scale(sx, sy);
      ctx.font = cssFont(style);
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      let bottom = height;
      for (let i = blocks.length - 1; i >= 0; i--) {
        const { line, userWidth } = blocks[i]!;
        let rows = blocks[i]!.rows;
        // Rounding slack: the box is whole pixels, the line height need not be.
        if (blockHeight(rows.length) > bottom + 1e-6) {
          if (i < blocks.length - 1) break;
          rows = rows.slice(0, Math.floor((bottom - 2 * pad + 1e-6) / lineHeight));
          if (rows.length === 0) break;
        }
        const top = bottom - blockHeight(rows.length);
        ctx.globalAlpha = line.alpha;
        if (style.background) {
          ctx.fillStyle = style.background;
          ctx.fillRect(0, top, content.width, blockHeight(rows.length));
        }
        rows.forEach((row, r) => {
          const y = top + pad + (r + 0.5) * lineHeight;
          ctx.fillStyle = style.color;
          if (r === 0 && content.userColor && row.startsWith(`${line.user}:`)) {
            ctx.fillStyle = content.userColor;
            ctx.fillText(`${line.user}:`, pad, y);
            ctx.fillStyle = style.color;
            ctx.fillText(row.slice(line.user.length + 1), pad + userWidth, y);
          } else ctx.fillText(row, pad, y);
        });
        bottom = top - gap;
        if (bottom <= 0) break;
      }
      ctx.restore();
    },
  };
}
