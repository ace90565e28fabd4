import type { SKRSContext2D } from '@napi-rs/canvas';
import type { CharacterRig, LayerContent } from '../../shared/scene.js';
import type { LayerBounds } from '../../pixels/frame-layout.js';
import type { PreparedContent, RenderEnv } from './types.js';
import { blit, overlayParts, phaseCount, scaledPicture, shiftedPicture, type Shifted } from './shifted-picture.js';

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

/** A pose: vertical offset (fraction of the height), eyes shut, mouth opening 0..1. */
export interface Pose {
  dy: number;
  eyesShut: boolean;
  mouthOpen: number;
}

/** The pose at time `t` (s). */
export function pose(animation: 'idle' | 'talking', t: number): Pose {
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

/** The face parts a pose draws over the picture (closed eyes, open mouth), `dy` px down, in a `width` x `height` box. */
function faceParts(
  rig: CharacterRig,
  p: Pose,
  width: number,
  height: number,
  dy: number,
): Array<{ kind: 'eye' | 'mouth'; x: number; y: number; rx: number; ry: number; line: number }> {
  const out: Array<{ kind: 'eye' | 'mouth'; x: number; y: number; rx: number; ry: number; line: number }> = [];
  if (p.eyesShut) {
    const r = rig.eyeRadius * width;
    for (const eye of rig.eyes)
      out.push({ kind: 'eye', x: eye.x * width, y: eye.y * height + dy, rx: r, ry: r, line: Math.max(1, r * 0.3) });
  }
  if (p.mouthOpen > 0.05) {
    const mw = rig.mouth.width * width;
    out.push({
      kind: 'mouth',
      x: rig.mouth.x * width,
      y: rig.mouth.y * height + dy,
      rx: mw / 2,
      ry: (mw / 2) * 0.8 * p.mouthOpen,
      line: 0,
    });
  }
  return out;
}

/** The whole-pixel box that holds every face part of the pose (null: none is drawn). */
function partsBox(rig: CharacterRig, p: Pose, width: number, height: number, dy: number): LayerBounds | null {
  const parts = faceParts(rig, p, width, height, dy);
  if (parts.length === 0) return null;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const f of parts) {
    // A closed eye is a skin disc 1.35 radii wide under a lid line.
    const rx = f.kind === 'eye' ? f.rx * 1.35 + f.line : f.rx;
    const ry = f.kind === 'eye' ? f.ry * 1.35 + f.line : f.ry;
    x0 = Math.min(x0, Math.floor(f.x - rx - 1));
    y0 = Math.min(y0, Math.floor(f.y - ry - 1));
    x1 = Math.max(x1, Math.ceil(f.x + rx + 1));
    y1 = Math.max(y1, Math.ceil(f.y + ry + 1));
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Draws the pose's face parts on `ctx` (origin at the box's top-left). */
function drawParts(ctx: SKRSContext2D, rig: CharacterRig, p: Pose, width: number, height: number, dy: number): void {
  for (const f of faceParts(rig, p, width, height, dy)) {
    if (f.kind === 'eye') {
      ctx.fillStyle = rig.skinColor;
      ctx.beginPath();
      ctx.ellipse(f.x, f.y, f.rx * 1.35, f.ry * 1.35, 0, 0, 2 * Math.PI);
      ctx.fill();
      ctx.strokeStyle = '#3b2a1a';
      ctx.lineWidth = f.line;
      ctx.beginPath();
      ctx.moveTo(f.x - f.rx, f.y);
      ctx.lineTo(f.x + f.rx, f.y);
      ctx.stroke();
    } else {
      ctx.fillStyle = '#4a1010';
      ctx.beginPath();
      ctx.ellipse(f.x, f.y, f.rx, f.ry, 0, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/**
 * The contract's host: the current animation's sprite sheet frame at `timeMs` when it has one; else the
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
        ctx.drawImage(
          image,
          (i % cols) * sheet.frameWidth,
          Math.floor(i / cols) * sheet.frameHeight,
          sheet.frameWidth,
          sheet.frameHeight,
          0,
          0,
          width,
          height,
        );
      },
    };
  }
  const image = await env.images.get(content.modelUrl);
  const rig = content.rig ?? DEFAULT_RIG;
  const src = content.modelUrl;

  /** The pose at `timeMs` in a `width` x `height` box, and the shifted copy that shows it at row `whole`. */
  function place(width: number, height: number, timeMs: number): { p: Pose; dy: number; whole: number; shift: number; picture: Shifted } {
    const p = pose(animation, timeMs / 1000);
    // Lip sync (or a client) sets the mouth itself: the source's envelope, not the talking loop.
    if (content.mouth !== undefined) p.mouthOpen = content.mouth;
    // The copy shifted by the offset's fraction (to the nearest phase), at its whole pixels:
    // a slow idle breath still moves every frame, at the cost of a plain copy.
    const dy = p.dy * height;
    const phases = phaseCount(Math.round(width), Math.round(height));
    let whole = Math.floor(dy);
    let phase = Math.round((dy - whole) * phases);
    if (phase === phases) {
      whole++;
      phase = 0;
    }
    return { p, dy, whole, shift: whole + phase / phases, picture: shiftedPicture(image, src, width, height, phase, phases) };
  }

  /** The visible pixels: the picture's, moved with it, and the face parts (a rig may put them outside the picture). */
  function visible(picture: Shifted, whole: number, parts: LayerBounds | null): LayerBounds {
    let x0 = picture.content.x;
    let y0 = picture.content.y + whole;
    let x1 = x0 + picture.content.width;
    let y1 = y0 + picture.content.height;
    if (parts) {
      x0 = Math.min(x0, parts.x);
      y0 = Math.min(y0, parts.y);
      x1 = Math.max(x1, parts.x + parts.width);
      y1 = Math.max(y1, parts.y + parts.height);
    }
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }

  return {
    natural: { width: image.width, height: image.height },
    draw(ctx, width, height, timeMs) {
      if (width * height > env.canvas.width * env.canvas.height) {
        // Bigger than the canvas: only its part on the canvas is drawn (the caller clips), so no
        // scaled copy of the whole picture is made (a 64x host would be gigabytes); the worker scans.
        const p = pose(animation, timeMs / 1000);
        // Lip sync (or a client) sets the mouth itself: the source's envelope, not the talking loop.
        if (content.mouth !== undefined) p.mouthOpen = content.mouth;
        const dy = p.dy * height;
        ctx.drawImage(image, 0, dy, width, height);
        drawParts(ctx, rig, p, width, height, dy);
        return;
      }
      const { p, dy, whole, shift, picture } = place(width, height, timeMs);
      // Only rotated or partly visible hosts come here (the worker writes the others with `write`).
      ctx.drawImage(scaledPicture(image, src, picture.width, picture.height - 1), 0, shift);
      drawParts(ctx, rig, p, width, height, dy);
      return visible(picture, whole, partsBox(rig, p, width, height, dy));
    },
    write(target, bufferWidth, bufferHeight, width, height, timeMs, originX = 0, originY = 0) {
      const { p, dy, whole, picture } = place(width, height, timeMs);
      blit(target, bufferWidth, bufferHeight, picture, whole - originY, -originX);
      const parts = partsBox(rig, p, width, height, dy);
      if (parts) {
        overlayParts(target, bufferWidth, bufferHeight, { ...parts, x: parts.x - originX, y: parts.y - originY }, (ctx) => {
          ctx.translate(-originX, -originY);
          drawParts(ctx, rig, p, width, height, dy);
        });
      }
      const v = visible(picture, whole, parts);
      return { ...v, x: v.x - originX, y: v.y - originY };
    },
  };
}
