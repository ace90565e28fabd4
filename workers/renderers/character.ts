import { createCanvas, type Canvas, type Image } from '@napi-rs/canvas';
import type { CharacterRig, LayerContent } from '../../shared/scene.js';
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

/** Scaled copies of character pictures kept per worker (by picture and size), least recent out first. */
const SCALED_CACHE_SIZE = 8;
const scaled = new Map<string, { image: Image; canvas: Canvas }>();

/**
 * `image` scaled to `width` x `height` with high-quality smoothing, drawn once and reused: the
 * host is drawn every frame, and a high-quality scale of the whole picture costs ~8 ms at 1080p
 * (bench `render` S1) where drawing the scaled copy at an offset costs ~1-2 ms.
 */
function scaledPicture(image: Image, src: string, width: number, height: number): Canvas {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const key = `${src}\u0000${w}x${h}`;
  const hit = scaled.get(key);
  if (hit && hit.image === image) {
    scaled.delete(key);
    scaled.set(key, hit);
    return hit.canvas;
  }
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(image, 0, 0, w, h);
  scaled.delete(key);
  if (scaled.size >= SCALED_CACHE_SIZE) scaled.delete(scaled.keys().next().value as string);
  scaled.set(key, { image, canvas });
  return canvas;
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
 * character picture (scaled once per size, {@link scaledPicture}), breathing and blinking when
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
      // The scaled picture is drawn at a sub-pixel offset (a bilinear blit, not a re-scale), so
      // a slow idle breath still moves every frame.
      const dy = p.dy * height;
      ctx.drawImage(scaledPicture(image, content.modelUrl, width, height), 0, dy);
      if (p.eyesShut) {
        const r = rig.eyeRadius * width;
        for (const eye of rig.eyes) {
          const ex = eye.x * width;
          const ey = eye.y * height + dy;
          ctx.fillStyle = rig.skinColor;
          ctx.beginPath();
          ctx.ellipse(ex, ey, r * 1.35, r * 1.35, 0, 0, 2 * Math.PI);
          ctx.fill();
          ctx.strokeStyle = '#3b2a1a';
          ctx.lineWidth = Math.max(1, r * 0.3);
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
      }
    },
  };
}
