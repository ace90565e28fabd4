import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GlobalFonts } from '@napi-rs/canvas';

/**
 * Family aliases for the fonts we ship: Liberation Sans is metric-compatible with Arial (same
 * advance widths), so the contract's `font: 'Arial'` lays out as it would with Arial.
 */
const ALIASES: Record<string, string[]> = {
  LiberationSans: ['Liberation Sans', 'Arial', 'Helvetica', 'sans-serif'],
};

/**
 * Registers every `.ttf`/`.otf` under `<assetRoot>/assets/fonts` with Skia, under its family
 * name and the aliases above. Runs once per worker thread. Returns the families registered.
 */
export function registerBundledFonts(assetRoot: string): string[] {
  const dir = join(assetRoot, 'assets', 'fonts');
  const families: string[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /\.(ttf|otf)$/i.test(f));
  } catch {
    return families;
  }
  for (const file of files) {
    const base = file.replace(/-[^-]*\.(ttf|otf)$/i, '').replace(/\.(ttf|otf)$/i, '');
    for (const alias of ALIASES[base] ?? [base]) {
      if (GlobalFonts.registerFromPath(join(dir, file), alias)) families.push(alias);
    }
  }
  return families;
}

/** Font assets registered in this worker, by asset id (the id is also the family name). */
const assetFonts = new Map<string, string>();

/**
 * Makes font asset `id` usable as the family name `id` in this worker (registered once).
 * @param path the asset's file
 * @throws Error when Skia cannot load it
 */
export function ensureAssetFont(id: string, path: string): void {
  if (assetFonts.has(id)) return;
  const key = GlobalFonts.registerFromPath(path, id);
  if (!key) throw new Error(`font asset ${id} could not be loaded`);
  assetFonts.set(id, id);
}

/** Forgets font asset `id` in this worker (it was deleted). */
export function forgetAssetFont(id: string): void {
  assetFonts.delete(id);
}
