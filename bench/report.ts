import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** Facts about the machine a benchmark ran on, stored with every result. */
export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  ffmpeg: string;
  platform: string;
}

export function machineFacts(ffmpegPath = 'ffmpeg'): MachineFacts {
  let ffmpeg = 'not found';
  try {
    ffmpeg = execFileSync(ffmpegPath, ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch {
    /* reported as not found */
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    ffmpeg,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Median of a list of numbers (NaN for none). */
export function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The `p`th percentile (nearest rank, 0..100) of values already sorted ascending; NaN for none.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

/** Median, min, max and count of a list. */
export function summary(values: number[]): { median: number; min: number; max: number; runs: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/** Writes `bench/results/<name>-<time>.json` and returns its path. */
export function writeResult(name: string, result: unknown): string {
  const dir = join('bench', 'results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

/** Prints rows as an aligned text table. */
export function printTable(rows: Record<string, string | number>[]): void {
  if (!rows.length) return;
  const cols = Object.keys(rows[0]!);
  const fmt = (v: string | number): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => fmt(r[c] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  process.stdout.write(line(cols) + '\n' + line(widths.map((w) => '-'.repeat(w))) + '\n');
  for (const r of rows) process.stdout.write(line(cols.map((c) => fmt(r[c] ?? ''))) + '\n');
}
