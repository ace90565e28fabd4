import type { IncomingMessage } from 'node:http';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { AppError } from '../../shared/errors.js';
import type { AssetService } from '../assets/asset-service.js';

/** Uploaded assets never change (the id is their hash), so clients may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface UploadedFile {
  filepath: string;
  originalFilename?: string | null;
}

/** A refused upload up to this many bytes over the limit is read and dropped before the 413 (nginx's lingering close). */
const LINGER_BYTES = 1024 * 1024;
/** Longest such a drain may take, ms. */
const LINGER_MS = 2000;

/**
 * Reads and drops a refused request's body: at most `max` bytes, for at most `ms`. Closing a
 * socket with unread bytes makes the kernel send a reset, which the client may see before the
 * answer.
 */
function drain(req: IncomingMessage, max: number, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const done = (): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', done).off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > max) done();
    };
    const timer = setTimeout(done, ms);
    req.on('data', onData).once('end', done).once('error', done);
  });
}

/** formidable's size errors carry httpCode 413; its other refusals are the client's fault. */
function uploadError(err: unknown, maxBytes: number): AppError {
  if (err instanceof AppError) return err;
  const e = err as { httpCode?: number; message?: string };
  if (e.httpCode === 413 || /max(Total)?FileSize|maxFileSize/i.test(e.message ?? '')) {
    return new AppError('SM_ERR_UPLOAD_TOO_LARGE', `The upload is over ${maxBytes} bytes (MAX_UPLOAD_SIZE)`);
  }
  return new AppError('SM_ERR_VALIDATION', `The upload could not be read: ${e.message ?? 'invalid multipart body'}`);
}

/**
 * Asset routes: `POST /assets/upload` (multipart, one file), `GET /assets`, `GET /assets/:id`,
 * `GET /assets/:id/content`, `DELETE /assets/:id[?force=true]`. Every upload is parsed into a
 * temp folder of its own that is removed whatever happens; a body announcing more than
 * `maxBytes` is refused before any of it is read.
 */
export function assetRoutes(router: Router, assets: AssetService, maxBytes: number): void {
  router.post('/assets/upload', async (ctx) => {
    const announced = Number(ctx.get('content-length'));
    if (announced > maxBytes) {
      ctx.set('Connection', 'close');
      // A body just over the limit is read and dropped first, so the client (still sending) reads
      // the 413 instead of a reset; a far larger one is not worth the bytes.
      if (announced <= maxBytes + LINGER_BYTES) await drain(ctx.req, LINGER_BYTES + maxBytes, LINGER_MS);
      throw new AppError('SM_ERR_UPLOAD_TOO_LARGE', `The upload is over ${maxBytes} bytes (MAX_UPLOAD_SIZE)`);
    }
    if (!ctx.is('multipart')) throw new AppError('SM_ERR_VALIDATION', 'Expected a multipart/form-data body with one file');
    const dir = await mkdtemp(join(tmpdir(), 'sm-upload-'));
    try {
      try {
        await koaBody({
          multipart: true,
          json: false,
          urlencoded: false,
          text: false,
          formidable: {
            uploadDir: dir,
            maxFileSize: maxBytes,
            maxTotalFileSize: maxBytes,
            maxFiles: 1,
            maxFields: 10,
            keepExtensions: false,
          },
        })(ctx, async () => undefined);
      } catch (err) {
        ctx.set('Connection', 'close');
        throw uploadError(err, maxBytes);
      }
      const files = Object.values((ctx.request.files ?? {}) as Record<string, UploadedFile | UploadedFile[]>).flat();
      if (files.length !== 1) throw new AppError('SM_ERR_VALIDATION', `Expected exactly one file, got ${files.length}`);
      const file = files[0]!;
      const { asset, created } = await assets.ingest(await readFile(file.filepath), file.originalFilename);
      ctx.state['log']?.info({ assetId: asset.id, kind: asset.kind, bytes: asset.bytes, created }, 'asset uploaded');
      ctx.status = created ? 201 : 200;
      ctx.set('ETag', `"${asset.id}"`);
      ctx.body = asset;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  router.get('/assets', (ctx) => {
    ctx.body = { assets: assets.list() };
  });
  router.get('/assets/:id', (ctx) => {
    ctx.body = assets.get(ctx.params['id']!);
  });
  router.get('/assets/:id/content', (ctx) => {
    const meta = assets.get(ctx.params['id']!);
    const etag = `"${meta.id}"`;
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', IMMUTABLE);
    if (ctx.get('If-None-Match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = meta.mime;
    ctx.length = meta.bytes;
    ctx.body = createReadStream(assets.path(meta.id));
  });
  router.delete('/assets/:id', async (ctx) => {
    const removal = await assets.remove(ctx.params['id']!, ctx.query['force'] === 'true');
    ctx.state['log']?.info({ assetId: ctx.params['id'], ...removal }, 'asset deleted');
    ctx.body = { deleted: ctx.params['id'], ...removal };
  });
}
