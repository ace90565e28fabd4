import { createCanvas, type Canvas, type Image } from '@napi-rs/canvas';
import type { CharacterRig, LayerContent } from '../../shared/scene.js';
import { contentBox } from '../../shared/content-box.js';
import type { LayerBounds } from '../../shared/frame-layout.js';
import type { PreparedContent, RenderEnv } from './types.js';

type CharacterContent = Extract<LayerContent, { type: 'character' }>;

/**
 * Where the face is on `assets/characters/auctioneer.png` (made by `scripts/make-assets.ts`,
 * which draws the face at these points), as fractions of the picture's width and height.
 */
export const DEFAULT_RIG: CharacterRig = {
  eyes: [
    { x: 0.4125, y: 0.2692 },
    { x: 0.5875, y: 0.2692 },
  ],
  eyeRadius: 0.03,
  mouth: { x: 0.5, y: 0.375, width: 0.13 },
  skinColor: '#f1c27d',
};

/** Idle breathing period, s, and amplitude as a fraction of the height. */
const BREATH_PERIOD_S = 3.5;
const BREATH_AMPLITUDE = 0.01;
/** Talking head-bob frequency, Hz, and amplitude. */
const BOB_HZ = 1.6;
const BOB_AMPLITUDE = 0.012;
/** A blink every BLINK_PERIOD_S lasting BLINK_S (people blink every 2-10 s for 100-150 ms). */
const BLINK_PERIOD_S = 3.7;
const BLINK_S = 0.14;
/** Syllable rate while talking, Hz (speech runs at about 3-5 syllables per second). */
const SYLLABLE_HZ = 3.3;

/** Bytes of scaled (and sub-pixel shifted) character pictures kept per worker, least recent out first. */
const SCALED_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * Bytes one picture size may spend on sub-pixel shifted copies: it gets as many phases as fit,
 * up to {@link MAX_PHASES} (a 708x921 host at 1080p, 2.6 MB a copy: 6 phases, 1/6 px steps). A
 * copy over half of it gets one phase and moves by whole pixels (a full-frame 4K host: 33 MB,
 * 26 px of bob), so that two huge copies never crowd the cache and get redrawn every frame.
 */
const PHASE_BUDGET_BYTES = 16 * 1024 * 1024;
const MAX_PHASES = 16;
/** A scaled, shifted copy and the box of its visible pixels (shared/content-box.ts). */
interface Shifted {
  canvas: Canvas;
  content: LayerBounds;
}
const scaled = new Map<string, Shifted & { image: Image; bytes: number }>();
let scaledBytes = 0;

/** How many vertical sub-pixel phases a `width` x `height` picture gets (see {@link PHASE_BUDGET_BYTES}). */
export function phaseCount(width: number, height: number): number {
  return Math.max(1, Math.min(MAX_PHASES, Math.floor(PHASE_BUDGET_BYTES / (width * (height + 1) * 4))));
}

/**
 * `image` scaled to `width` x `height` with high-quality smoothing and shifted down by
 * `phase / phases` of a pixel (bilinear), drawn once and reused; the copy is one row taller to
 * hold the shifted bottom row. The host moves by fractions of a pixel every frame (a slow idle
 * breath at a small size moves ~0.1 px a frame): drawing a shifted copy at a whole-pixel offset
 * costs ~0.5 ms at 1080p where the same draw at a sub-pixel offset resamples every pixel, ~2.5 ms
 * (and a high-quality scale of the whole picture ~8 ms; bench `render` S1).
 */
function shiftedPicture(image: Image, src: string, width: number, height: number, phase: number, phases: number): Shifted {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const key = `${src}\u0000${w}x${h}\u0000${phase}/${phases}`;
  const hit = scaled.get(key);
  if (hit && hit.image === image) {
    scaled.delete(key);
    scaled.set(key, hit);
    return hit;
  }
  const canvas = createCanvas(w, h + 1);
  const ctx = canvas.getContext('2d');
  if (phase === 0) {
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(image, 0, 0, w, h);
  } else {
    ctx.drawImage(shiftedPicture(image, src, w, h, 0, phases).canvas, 0, phase / phases);
  }
  const pixels = canvas.data();
  const content = contentBox(new Uint32Array(Uint8Array.from(pixels).buffer), w, h + 1);
  const bytes = w * (h + 1) * 4;
  if (hit) scaledBytes -= hit.bytes;
  scaled.delete(key);
  for (const [k, e] of scaled) {
    if (scaledBytes + bytes <= SCALED_CACHE_BYTES) break;
    scaled.delete(k);
    scaledBytes -= e.bytes;
  }
  const entry = { image, canvas, content, bytes };
  scaled.set(key, entry);
  scaledBytes += bytes;
  return entry;
}

/** The pose at time `t` (s): vertical offset (fraction of height), eyes shut, mouth opening 0..1. */
export function pose(animation: 'idle' | 'talking', t: number): { dy: number; eyesShut: boolean; mouthOpen: number } {
  const eyesShut = t % BLINK_PERIOD_S < BLINK_S;
  if (animation === 'talking') {
    const envelope = 0.55 + 0.45 * Math.abs(Math.sin(2 * Math.PI * 0.9 * t));
    return {
      dy: Math.sin(2 * Math.PI * BOB_HZ * t) * BOB_AMPLITUDE,
      eyesShut,
      mouthOpen: Math.abs(Math.sin(2 * Math.PI * SYLLABLE_HZ * t)) * envelope,
    };
  }
  return { dy: Math.sin((2 * Math.PI * t) / BREATH_PERIOD_S) * BREATH_AMPLITUDE, eyesShut, mouthOpen: 0 };
}

/**
 * The seeds' host: the current animation's sprite sheet frame at `timeMs` when it has one; else the
 * character picture (scaled once per size and sub-pixel phase, {@link shiftedPicture}), breathing and blinking when
 * idle, bobbing and moving its mouth when talking. A frame is a pure function of
 * `timeMs`.
 */
export async function prepareCharacter(content: CharacterContent, env: RenderEnv): Promise<PreparedContent> {
  const animation = content.animation ?? 'idle';
  const sheet = content.sprites?.[animation];
  if (sheet) {
    const image = await env.images.get(sheet.src);
    const cols = Math.max(1, Math.floor(image.width / sheet.frameWidth));
    return {
      natural: { width: sheet.frameWidth, height: sheet.frameHeight },
      draw(ctx, width, height, timeMs) {
        const i = Math.floor((Math.max(0, timeMs) * sheet.fps) / 1000) % sheet.frames;
        ctx.imageSmoothingQuality = 'high';
        ctx.drawImage(image, (i % cols) * sheet.frameWidth, Math.floor(i / cols) * sheet.frameHeight, sheet.frameWidth, sheet.frameHeight, 0, 0, width, height);
      },
    };
  }
  const image = await env.images.get(content.modelUrl);
  const rig = content.rig ?? DEFAULT_RIG;
  return {
    natural: { width: image.width, height: image.height },
    draw(ctx, width, height, timeMs) {
      const p = pose(animation, timeMs / 1000);
      // The copy shifted by the offset's fraction (to the nearest phase), at its whole pixels:
      // a slow idle breath still moves every frame, at the cost of a plain blit.
      const dy = p.dy * height;
      const phases = phaseCount(Math.round(width), Math.round(height));
      let whole = Math.floor(dy);
      let phase = Math.round((dy - whole) * phases);
      if (phase === phases) {
        whole++;
        phase = 0;
      }
      const picture = shiftedPicture(image, content.modelUrl, width, height, phase, phases);
      ctx.drawImage(picture.canvas, 0, whole);
      // Visible pixels: the picture's, moved with it, and the face parts drawn on top (a rig may
      // put them outside the picture's own pixels).
      let x0 = picture.content.x;
      let y0 = picture.content.y + whole;
      let x1 = x0 + picture.content.width;
      let y1 = y0 + picture.content.height;
      const cover = (cx: number, cy: number, rx: number, ry: number): void => {
        x0 = Math.min(x0, Math.floor(cx - rx - 1));
        y0 = Math.min(y0, Math.floor(cy - ry - 1));
        x1 = Math.max(x1, Math.ceil(cx + rx + 1));
        y1 = Math.max(y1, Math.ceil(cy + ry + 1));
      };
      if (p.eyesShut) {
        const r = rig.eyeRadius * width;
        for (const eye of rig.eyes) {
          const ex = eye.x * width;
          const ey = eye.y * height + dy;
          const line = Math.max(1, r * 0.3);
          cover(ex, ey, r * 1.35 + line, r * 1.35 + line);
          ctx.fillStyle = rig.skinColor;
          ctx.beginPath();
          ctx.ellipse(ex, ey, r * 1.35, r * 1.35, 0, 0, 2 * Math.PI);
          ctx.fill();
          ctx.strokeStyle = '#3b2a1a';
          ctx.lineWidth = line;
          ctx.beginPath();
          ctx.moveTo(ex - r, ey);
          ctx.lineTo(ex + r, ey);
          ctx.stroke();
        }
      }
      if (p.mouthOpen > 0.05) {
        const mw = rig.mouth.width * width;
        ctx.fillStyle = '#4a1010';
        ctx.beginPath();
        ctx.ellipse(rig.mouth.x * width, rig.mouth.y * height + dy, mw / 2, (mw / 2) * 0.8 * p.mouthOpen, 0, 0, 2 * Math.PI);
        ctx.fill();
        cover(rig.mouth.x * width, rig.mouth.y * height + dy, mw / 2, (mw / 2) * 0.8 * p.mouthOpen);
      }
      return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    },
  };
}
