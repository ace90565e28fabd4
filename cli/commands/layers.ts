import { Command, Option } from 'commander';
import type { LayerPatch } from '../../shared/layer-patch.js';
import { boolean, jsonObject, milliseconds, number } from '../args.js';
import { withCommonOptions, output } from '../context.js';
import { UsageError } from '../errors.js';
import { layerLine, layersTable } from '../format.js';
import { action, type Io } from './action.js';

interface PatchOptions {
  text?: string;
  json?: Record<string, unknown>;
  x?: number;
  y?: number;
  opacity?: number;
  visible?: boolean;
  z?: number;
  duration?: number;
  easing?: string;
}

/**
 * The patch the options of `patch` make: `--json` first (a JSON Merge Patch as it is), then the
 * single-field options over it; `--duration` adds a tween of the position and opacity.
 * @throws UsageError when no option says what to change
 */
export function patchFromOptions(o: PatchOptions): LayerPatch {
  const patch: Record<string, unknown> = { ...(o.json ?? {}) };
  const merge = (key: string, fields: Record<string, unknown>): void => {
    const prev = patch[key];
    patch[key] = { ...(typeof prev === 'object' && prev !== null ? prev : {}), ...fields };
  };
  if (o.text !== undefined) merge('content', { content: o.text });
  if (o.x !== undefined) merge('transform', { x: o.x });
  if (o.y !== undefined) merge('transform', { y: o.y });
  if (o.opacity !== undefined) patch['opacity'] = o.opacity;
  if (o.visible !== undefined) patch['visible'] = o.visible;
  if (o.z !== undefined) patch['zIndex'] = o.z;
  if (o.duration !== undefined) patch['transition'] = { durationMs: o.duration, ...(o.easing ? { easing: o.easing } : {}) };
  else if (o.easing !== undefined) throw new UsageError('--easing needs --duration');
  if (Object.keys(patch).length === 0)
    throw new UsageError('Nothing to change: give --text, --json, --x, --y, --opacity, --visible or --z');
  return patch as LayerPatch;
}

/** `layers`, `layer <id>`, `patch <id>`. */
export function layerCommands(io: Io): Command[] {
  const layers = withCommonOptions(new Command('layers').description('the layers, front first'));
  layers.action(
    action(io, async (ctx) => {
      output(ctx, await ctx.client.call('listLayers', {}), (v) => layersTable(v.layers));
    }),
  );
  const layer = withCommonOptions(new Command('layer').description('one layer, whole').argument('<id>', 'layer id'));
  layer.action(
    action(io, async (ctx, id: string) => {
      const l = await ctx.client.call('getLayer', { params: { id } });
      ctx.print(ctx.json ? JSON.stringify(l) : JSON.stringify(l, null, 2));
    }),
  );
  // `--json <patch>` is the patch here: machine output is `--output json` (or `stream-manager --json patch ...`).
  const patch = withCommonOptions(new Command('patch'), { json: false })
    .description('change a layer (a JSON Merge Patch); machine output: --output json')
    .argument('<id>', 'layer id')
    .addOption(new Option('--text <text>', "a text layer's text"))
    .addOption(new Option('--json <patch>', 'a JSON Merge Patch of the layer, e.g. \'{"opacity":0.5}\'').argParser(jsonObject))
    .addOption(new Option('--x <px>', 'left edge, pixels').argParser(number))
    .addOption(new Option('--y <px>', 'top edge, pixels').argParser(number))
    .addOption(new Option('--opacity <0..1>', 'opacity').argParser(number))
    .addOption(new Option('--visible <bool>', 'show (true) or hide (false)').argParser(boolean))
    .addOption(new Option('--z <n>', 'z-index (higher is on top)').argParser(number))
    .addOption(new Option('--duration <ms>', 'glide position and opacity over this long').argParser(milliseconds))
    .addOption(new Option('--easing <name>', 'easing of the glide (linear, ease-out, cubic-bezier(...), ...)'));
  patch.action(
    action(io, async (ctx, id: string, options: PatchOptions) => {
      output(ctx, await ctx.client.call('patchLayer', { params: { id }, body: patchFromOptions(options) }), layerLine);
    }),
  );
  return [layers, layer, patch];
}
