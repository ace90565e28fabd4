/**
 * The FFmpeg contender: a bench scene as the filter graph an engineer would write by hand, the
 * bottom image as the base, every other image overlaid in z-order, moving layers with the same
 * triangle wave as our bench ({@link moveExpression}), text layers as `drawtext` on a box. Three
 * input forms:
 * - `loop1`: every picture is a `-loop 1` input, so it is decoded again for every frame;
 * - `decoded-once`: every picture is read once and repeated with the `loop` filter (ffmpeg then
 *   converts the repeated RGB frame to the overlay's YUV format every frame);
 * - `decoded-once-yuv`: as `decoded-once` with `format=yuv420p` before `loop`, so the conversion
 *   is done once too: the fastest form we found, and the one the acceptance ratios use.
 * And a runner that measures steady-state frames/s from ffmpeg's own progress reports.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { Layer } from '../shared/scene.js';
import { BOX_PADDING } from '../workers/renderers/text.js';
import { MOVING, moveExpression, sceneDocument, sceneLayers, type BenchScene } from './scenes.js';

export const GRAPH_FORMS = ['loop1', 'decoded-once', 'decoded-once-yuv'] as const;
export type GraphForm = (typeof GRAPH_FORMS)[number];

/** Quotes a value for a filter option inside a filter graph: `'...'` with `:` and `\\` escaped (no `'` allowed). */
function esc(value: string): string {
  if (value.includes("'")) throw new Error(`A quote in a drawtext value is not supported: ${value}`);
  return `'${value.replace(/[\\:]/g, (c) => `\\${c}`)}'`;
}

/** A CSS colour as drawtext's `color@alpha` (rgba() and #rrggbb only: what the bench scenes use). */
function ffColor(css: string): string {
  const m = /^rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)$/.exec(css.replace(/\s+/g, ''));
  if (!m) return css.startsWith('#') ? `0x${css.slice(1, 7)}` : css;
  const hex = [m[1], m[2], m[3]].map((v) => Number(v).toString(16).padStart(2, '0')).join('');
  return `0x${hex}@${m[4] ?? '1'}`;
}

/**
 * The ffmpeg input and filter arguments that draw `scene` at `width` x `height` and `fps`, ending
 * in the stream label `[out]`. Pictures are scaled to their layer's box when it differs from the
 * file's size (in `decoded-once*`, once).
 * @throws Error when the scene has a layer type the graph cannot draw (colour, character, chat)
 */
export async function graphArgs(scene: BenchScene, form: GraphForm, width: number, height: number, fps: number): Promise<string[]> {
  const layers = sceneLayers(scene, width, height).sort((a, b) => a.zIndex - b.zIndex);
  const sx = width / sceneDocument(scene).canvas.width;
  const moving = MOVING[scene];
  const inputs: string[] = [];
  const chains: string[] = [];
  const images = layers.filter((l): l is Layer & { content: { type: 'image'; src: string } } => l.content.type === 'image');
  for (const [i, l] of images.entries()) {
    const path = resolve(l.content.src);
    inputs.push(...(form === 'loop1' ? ['-loop', '1'] : []), '-framerate', String(fps), '-i', path);
    const meta = await sharp(path).metadata();
    const w = Math.round(l.transform.width ?? meta.width);
    const h = Math.round(l.transform.height ?? meta.height);
    const steps = [w !== meta.width || h !== meta.height ? `scale=${w}:${h}` : 'null'];
    if (form === 'decoded-once-yuv') steps.push('format=yuv420p');
    if (form !== 'loop1') steps.push('loop=loop=-1:size=1:start=0');
    chains.push(`[${i}:v]${steps.join(',')}[in${i}]`);
  }
  let last = 'in0';
  for (const [i, l] of images.entries()) {
    if (i === 0) continue;
    const m = moving.indexOf(l.id);
    const x = m < 0 ? String(Math.round(l.transform.x)) : `'${moveExpression(Math.round(l.transform.x / sx), m * 4000, sx)}'`;
    chains.push(`[${last}][in${i}]overlay=x=${x}:y=${Math.round(l.transform.y)}[ov${i}]`);
    last = `ov${i}`;
  }
  for (const [i, l] of layers.entries()) {
    if (l.content.type === 'image') continue;
    if (l.content.type !== 'text') throw new Error(`The FFmpeg graph cannot draw a ${l.content.type} layer (${l.id})`);
    const { style, content } = l.content;
    const pad = style.background ? Math.round(style.fontSize * BOX_PADDING) : 0;
    const font = resolve(join('assets', 'fonts', 'LiberationSans-Regular.ttf'));
    const box = style.background ? `:box=1:boxcolor=${ffColor(style.background)}:boxborderw=${pad}` : '';
    chains.push(
      `[${last}]drawtext=fontfile=${esc(font)}:text=${esc(content)}:fontsize=${style.fontSize}:fontcolor=${ffColor(style.color)}${box}` +
        `:x=${Math.round(l.transform.x) + pad}:y=${Math.round(l.transform.y) + pad}[tx${i}]`,
    );
    last = `tx${i}`;
  }
  chains.push(`[${last}]null[out]`);
  return [...inputs, '-filter_complex', chains.join(';'), '-map', '[out]'];
}

/** Frames/s of one ffmpeg run in steady state, and its CPU use. */
export interface FfmpegRun {
  fps: number;
  frames: number;
  wallS: number;
}

/**
 * Runs ffmpeg with `args` (inputs, graph and output) for `frames` frames and measures frames/s
 * between its first progress report after `warmupS` and its last one, so start-up (reading and
 * decoding the pictures) is not counted against it. `fps` is NaN when no two reports span a
 * steady-state window (a run that ended within about `warmupS` + 0.25 s): run it longer.
 * @param feed given ffmpeg's stdin when the input is `pipe:0` (our frames)
 * @throws Error when ffmpeg exits non-zero
 */
export function runFfmpeg(ffmpegPath: string, args: string[], warmupS = 0.5, feed?: (stdin: Writable) => void): Promise<FfmpegRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      ffmpegPath,
      ['-hide_banner', '-loglevel', 'error', '-nostats', '-progress', 'pipe:1', '-stats_period', '0.25', ...args],
      { stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
    );
    if (feed && child.stdin) feed(child.stdin);
    const started = performance.now();
    let first: { t: number; frame: number } | null = null;
    let lastMark = { t: started, frame: 0 };
    let buf = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^frame=(\d+)/.exec(line);
        if (!m) continue;
        const mark = { t: performance.now(), frame: Number(m[1]) };
        if (!first && mark.t - started >= warmupS * 1000 && mark.frame > 0) first = mark;
        lastMark = mark;
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`ffmpeg exited ${code}: ${err.slice(-500)}`));
      const from = first ?? lastMark;
      const frames = lastMark.frame - from.frame;
      const wallS = (lastMark.t - from.t) / 1000;
      resolvePromise({ fps: frames > 0 && wallS > 0 ? frames / wallS : NaN, frames, wallS });
    });
  });
}
