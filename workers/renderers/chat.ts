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
 * The chat overlay: a fixed box `width` wide and `maxMessages` lines high; messages stack up
 * from the bottom (newest last), each as `user: text` wrapped to the box, on its own background
 * strip when the style has one, at its fade alpha. The orchestrator adds `lines` to the content at
 * each frame time (see orchestrator/chat/chat-feed.ts); older messages that do not fit are cut.
 */
export function prepareChat(content: ChatContent, env: RenderEnv): PreparedContent {
  const style = drawnTextStyle(content.style, env.canvas);
  const lines: ChatLine[] = (content as ChatContent & { lines?: ChatLine[] }).lines ?? [];
  const fs = style.fontSize;
  const lineHeight = fs * LINE_HEIGHT;
  const pad = Math.round(fs * PADDING);
  const height = Math.ceil(content.maxMessages * lineHeight + 2 * pad);
  measureCtx ??= createCanvas(1, 1).getContext('2d');
  const ctx0 = measureCtx;
  ctx0.font = cssFont(style);
  const blocks = lines.map((l) => ({ line: l, rows: wrap(ctx0, `${l.user}: ${l.text}`, Math.max(1, content.width - 2 * pad)), userWidth: ctx0.measureText(`${l.user}:`).width }));
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
      for (let i = blocks.length - 1; i >= 0 && bottom > 0; i--) {
        const { line, rows, userWidth } = blocks[i]!;
        const blockHeight = rows.length * lineHeight + 2 * pad;
        const top = bottom - blockHeight;
        ctx.globalAlpha = line.alpha;
        if (style.background) {
          ctx.fillStyle = style.background;
          ctx.fillRect(0, top, content.width, blockHeight);
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
        bottom = top - fs * GAP;
      }
      ctx.restore();
    },
  };
}
