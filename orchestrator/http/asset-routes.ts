import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import { AppError } from '../../shared/errors.js';
import type { AssetService } from '../assets/asset-service.js';
import { UploadSink, type UploadLimits } from '../assets/upload-sink.js';

/** Uploaded assets never change (the id is their hash), so clients may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface UploadedFile {
  filepath: string;
  originalFilename?: string | null;
}

/** Bytes of form fields (parts without a Content-Type) accepted beside the file; formidable holds them in memory. */
const MAX_FIELDS_BYTES = 64 * 1024;
/** Most bytes a form's parts other than the file may take (fields, part headers, boundaries). */
const FORM_ALLOWANCE = MAX_FIELDS_BYTES + 64 * 1024;
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
    req.resume();
  });
}

/** formidable's size errors carry httpCode 413; its other refusals are the client's fault. */
function uploadError(err: unknown, most: { bytes: number; name: string }): AppError {
  if (err instanceof AppError) return err;
  const e = err as { httpCode?: number; message?: string };
  if (/maxFiles\b/.test(e.message ?? '')) return new AppError('SM_ERR_VALIDATION', 'Expected exactly one file; the form holds more');
  if (/maxFieldsSize/.test(e.message ?? '')) {
    return new AppError(
      'SM_ERR_VALIDATION',
      `The form fields are over ${MAX_FIELDS_BYTES} bytes: send the file as a file part (with a filename and a Content-Type)`,
    );
  }
  if (e.httpCode === 413 || /max(Total)?FileSize|maxFileSize/i.test(e.message ?? '')) {
    return new AppError('SM_ERR_UPLOAD_TOO_LARGE', `The upload is over ${most.bytes} bytes (${most.name})`);
  }
  return new AppError('SM_ERR_VALIDATION', `The upload could not be read: ${e.message ?? 'invalid multipart body'}`);
}

/** Resolves once `sink` has closed its file (destroying it first if it is still open). */
async function closed(sink: UploadSink): Promise<void> {
  if (sink.closed) return;
  const done = once(sink, 'close').catch(() => undefined);
  if (!sink.destroyed && !sink.writableFinished) sink.destroy();
  await done;
}

/**
 * Asset routes: `POST /assets/upload` (multipart, one file), `GET /assets`, `GET /assets/:id`,
 * `GET /assets/:id/content`, `GET /assets/:id/poster` (a video's poster frame),
 * `DELETE /assets/:id[?force=true]`. Every upload is streamed into a temp folder of its own under
 * the storage folder (never held in memory whole) that is removed whatever happens; its kind is
 * told from its first bytes, and it may be `limits.maxVideoBytes` long when they say video,
 * `limits.maxBytes` otherwise (cut off mid-stream past that). A body announcing more than the
 * larger limit is refused before any of it is read.
 */
export function assetRoutes(router: Router, assets: AssetService, limits: UploadLimits): void {
  const most =
    limits.maxVideoBytes > limits.maxBytes
      ? { bytes: limits.maxVideoBytes, name: 'MAX_VIDEO_UPLOAD_SIZE' }
      : { bytes: limits.maxBytes, name: 'MAX_UPLOAD_SIZE' };
  router.post('/assets/upload', async (ctx) => {
    const length = ctx.get('content-length');
    const announced = length ? Number(length) : NaN;
    if (announced > most.bytes) {
      ctx.set('Connection', 'close');
      // A body just over the limit is read and dropped first, so the client (still sending) reads
      // the 413 instead of a reset; a far larger one is not worth the bytes.
      if (announced <= most.bytes + LINGER_BYTES) await drain(ctx.req, LINGER_BYTES + most.bytes, LINGER_MS);
      throw new AppError('SM_ERR_UPLOAD_TOO_LARGE', `The upload is over ${most.bytes} bytes (${most.name})`);
    }
    if (!ctx.is('multipart')) throw new AppError('SM_ERR_VALIDATION', 'Expected a multipart/form-data body with one file');
    const dir = await assets.receiveDir();
    const sinks: UploadSink[] = [];
    const leastFileBytes = Number.isFinite(announced) ? Math.max(0, announced - FORM_ALLOWANCE) : 0;
    let read = 0;
    ctx.req.on('data', (chunk: Buffer) => (read += chunk.length));
    try {
      try {
        await koaBody({
          multipart: true,
          json: false,
          urlencoded: false,
          text: false,
          formidable: {
            uploadDir: dir,
            maxFileSize: most.bytes,
            maxTotalFileSize: most.bytes,
            maxFiles: 1,
            maxFields: 10,
            // A part without a Content-Type is a field, which formidable holds in memory: the file must come as a file.
            maxFieldsSize: MAX_FIELDS_BYTES,
            keepExtensions: false,
            fileWriteStreamHandler: () => {
              const sink = new UploadSink(join(dir, `file-${sinks.length}`), limits, leastFileBytes);
              sinks.push(sink);
              return sink;
            },
          },
        })(ctx, async () => undefined);
        // formidable may finish before a sink's failure (e.g. past its kind's limit) reaches it.
        const failed = sinks.find((sink) => sink.errored)?.errored;
        if (failed) throw failed;
      } catch (err) {
        ctx.set('Connection', 'close');
        const refused = uploadError(err, most);
        // Cut off mid-stream (an image past MAX_UPLOAD_SIZE): the rest of a body just over is read
        // and dropped, as above, so that the client reads the 413; a far larger rest is not.
        const rest = Number.isFinite(announced) ? announced - read : LINGER_BYTES;
        if (refused.code === 'SM_ERR_UPLOAD_TOO_LARGE' && !ctx.req.readableEnded && rest <= LINGER_BYTES)
          await drain(ctx.req, LINGER_BYTES, LINGER_MS);
        throw refused;
      }
      const files = Object.values((ctx.request.files ?? {}) as Record<string, UploadedFile | UploadedFile[]>).flat();
      const received = sinks.length === 1 ? sinks[0]!.result() : null;
      if (files.length !== 1 || !received) throw new AppError('SM_ERR_VALIDATION', `Expected exactly one file, got ${files.length}`);
      const { asset, created } = await assets.ingestUpload(received, files[0]!.originalFilename);
      ctx.state['log']?.info({ assetId: asset.id, kind: asset.kind, bytes: asset.bytes, created }, 'asset uploaded');
      ctx.status = created ? 201 : 200;
      ctx.set('ETag', `"${asset.id}"`);
      ctx.body = asset;
    } finally {
      await Promise.all(sinks.map(closed));
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
  router.get('/assets/:id/poster', async (ctx) => {
    const path = assets.posterPath(ctx.params['id']!);
    const size = await stat(path).then(
      (st) => st.size,
      () => null,
    );
    if (size === null) throw new AppError('SM_ERR_NOT_FOUND', 'This video has no poster frame');
    const etag = `"${ctx.params['id']}-poster"`;
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', IMMUTABLE);
    if (ctx.get('If-None-Match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'image/jpeg';
    ctx.length = size;
    ctx.body = createReadStream(path);
  });
  router.delete('/assets/:id', async (ctx) => {
    const removal = await assets.remove(ctx.params['id']!, ctx.query['force'] === 'true');
    ctx.state['log']?.info({ assetId: ctx.params['id'], ...removal }, 'asset deleted');
    ctx.body = { deleted: ctx.params['id'], ...removal };
  });
}
