import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startApp, type App, type StartOptions } from '../../orchestrator/app.js';
import { loadConfig, type ServerConfig } from '../../orchestrator/config/env.js';
import { createLogger } from '../../orchestrator/logger.js';

/** A server on port 0 for one test file, with helpers to call it. */
export interface TestServer {
  app: App;
  config: ServerConfig;
  base: string;
  /** Scratch folder (recordings land here); removed on close. */
  dir: string;
  /** fetch + JSON: `{status, body, headers}`; `body` is the parsed JSON (else the text, or null). */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** GET /stream/snapshot decoded to straight RGBA by sharp. */
  snapshot(width?: number): Promise<Pixels>;
  close(): Promise<void>;
}

/** Decoded RGBA pixels. */
export interface Pixels {
  width: number;
  height: number;
  data: Buffer;
  at(x: number, y: number): [number, number, number, number];
}

/** Decodes an encoded image (PNG/JPEG) to RGBA with sharp. */
export async function decode(bytes: Uint8Array): Promise<Pixels> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data,
    at(x, y) {
      const i = (y * info.width + x) * 4;
      return [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
    },
  };
}

/**
 * Starts Stream Manager on port 0 (HTTP and WS), empty scene, small canvas, quiet logs, no rate
 * limit, output to a scratch folder. `env` overrides any variable; `options.clock` sets scene time
 * (a ManualClock makes every snapshot of a stopped stream a frame at a chosen time).
 */
export async function startServer(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-test-'));
  // The baseline below stands for defaults (a stored state wins over it); only `env` counts as
  // set in the environment, which wins over the stored state (config/precedence.ts).
  const loaded = loadConfig({
    PORT: '0',
    WS_PORT: '0',
    WIDTH: '320',
    HEIGHT: '240',
    FPS: '30',
    BACKGROUND: '#000000',
    DEFAULT_SCENE: 'empty',
    WORKERS: '2',
    RECORDINGS_DIR: join(dir, 'recordings'),
    DATA_DIR: join(dir, 'data'),
    ASSET_STORAGE_PATH: join(dir, 'assets'),
    STATE_STORE: 'memory',
    AUTOSTART: 'false',
    RATE_LIMIT_MAX: '0',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...env,
  });
  const config: ServerConfig = { ...loaded, explicit: new Set(Object.keys(env).filter((k) => env[k] !== '')) };
  const app = await startApp(config, createLogger(config.logLevel), options);
  const base = `http://127.0.0.1:${app.port}`;
  const call: TestServer['call'] = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return {
    app,
    config,
    base,
    dir,
    call,
    async snapshot(width) {
      const res = await fetch(`${base}/stream/snapshot${width ? `?width=${width}` : ''}`);
      if (res.status !== 200) throw new Error(`snapshot: ${res.status} ${await res.text()}`);
      return decode(new Uint8Array(await res.arrayBuffer()));
    },
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
