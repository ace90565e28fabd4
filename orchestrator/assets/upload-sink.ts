import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { fileTypeFromBuffer } from 'file-type';
import { AppError } from '../../shared/errors.js';

/** Bytes `file-type` reads to tell a file's type (its `reasonableDetectionSizeInBytes`). */
const HEAD_BYTES = 4100;

/** MIME types (as `file-type` names them) accepted as video uploads: MP4 (and Apple's M4V), MOV, MKV, WebM. */
export const VIDEO_MIMES: ReadonlySet<string> = new Set([
  'video/mp4',
  'video/x-m4v',
  'video/quicktime',
  'video/matroska',
  'video/x-matroska',
  'video/webm',
]);

/**
 * MIME types (as `file-type` names them) accepted as audio uploads (issue 30): WAV, MP3, AAC
 * (ADTS), M4A, Ogg (Vorbis, Opus), FLAC. Received and probed in place like videos, within the video size limit.
 */
export const AUDIO_MIMES: ReadonlySet<string> = new Set([
  'audio/wav',
  'audio/vnd.wave',
  'audio/x-wav',
  'audio/mpeg',
  'audio/aac',
  'audio/x-m4a',
  'audio/mp4',
  'audio/ogg',
  'audio/opus',
  'audio/ogg; codecs=opus',
  'audio/flac',
  'audio/x-flac',
]);

/** Largest upload by kind, bytes: a video (`MAX_VIDEO_UPLOAD_SIZE`) and anything else (`MAX_UPLOAD_SIZE`). */
export interface UploadLimits {
  maxBytes: number;
  maxVideoBytes: number;
}

/** A file received whole: where it lies, its SHA-256 (hex), size in bytes, and its video MIME type (null: not a video). */
export interface ReceivedUpload {
  path: string;
  sha256: string;
  bytes: number;
  videoMime: string | null;
}

/**
 * Receives one uploaded file's bytes into `path` (created new, mode 0600) while hashing them,
 * and tells from the first bytes alone (magic bytes via `file-type`, never the name or the
 * declared type) whether it is a video: a video may be `maxVideoBytes` long, anything else
 * `maxBytes`; past its limit the stream fails with SM_ERR_UPLOAD_TOO_LARGE (413), so an image's
 * limit holds even though the request may be as long as a video's. Memory stays at one chunk
 * plus the head (writes are awaited: the request is paused meanwhile). The file is fsynced
 * before `finish`; on failure it is left for the caller to remove with its folder.
 */
export class UploadSink extends Writable {
  readonly path: string;
  readonly #limits: UploadLimits;
  readonly #hash = createHash('sha256');
  #file: FileHandle | null = null;
  #size = 0;
  #head: Buffer[] = [];
  #headBytes = 0;
  /** undefined until the head has been read; then the video MIME type or null. */
  #videoMime: string | null | undefined;
  #sha256: string | null = null;

  readonly #leastBytes: number;

  /**
   * @param leastBytes the fewest bytes the file can have, when the request says its length
   *   (Content-Length less what the form's other parts may take; 0 when unknown): once the first
   *   bytes tell the kind, a file that must be over its kind's limit is refused before more is read
   */
  constructor(path: string, limits: UploadLimits, leastBytes = 0) {
    super({ highWaterMark: 64 * 1024 });
    this.path = path;
    this.#limits = limits;
    this.#leastBytes = leastBytes;
  }

  /** What was received; null until the stream has finished without error. */
  result(): ReceivedUpload | null {
    if (this.#sha256 === null || this.#videoMime === undefined) return null;
    return { path: this.path, sha256: this.#sha256, bytes: this.#size, videoMime: this.#videoMime };
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, 'wx', 0o600).then((file) => {
      this.#file = file;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take([chunk]).then(() => callback(), callback);
  }

  /**
   * Everything buffered meanwhile, in one write. formidable pauses the request for every piece
   * it writes and resumes it when any one is written: with one write per piece, a chunk that
   * the multipart parser splits in two (a `\r` that might start the boundary) would leave one
   * more piece waiting each time, and the backlog would grow with the upload. Written together,
   * their callbacks come together: one resume, and the backlog stays at a chunk or two.
   */
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#take(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const file = this.#file;
    this.#file = null;
    if (!file) return callback(error);
    file.close().then(
      () => callback(error),
      () => callback(error),
    );
  }

  async #take(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      this.#size += chunk.length;
      if (this.#videoMime === undefined) {
        this.#head.push(chunk);
        this.#headBytes += chunk.length;
        if (this.#headBytes >= HEAD_BYTES || this.#size > Math.min(this.#limits.maxBytes, this.#limits.maxVideoBytes)) await this.#sniff();
      }
      this.#checkSize();
      this.#hash.update(chunk);
    }
    await this.#file!.writev(chunks);
  }

  async #finish(): Promise<void> {
    if (this.#videoMime === undefined) await this.#sniff();
    this.#checkSize();
    await this.#file!.sync();
    const file = this.#file!;
    this.#file = null;
    await file.close();
    this.#sha256 = this.#hash.digest('hex');
  }

  async #sniff(): Promise<void> {
    const type = await fileTypeFromBuffer(Buffer.concat(this.#head).subarray(0, HEAD_BYTES));
    // Audio files travel the video path (probed in place, the video size limit).
    this.#videoMime = type && (VIDEO_MIMES.has(type.mime) || AUDIO_MIMES.has(type.mime)) ? type.mime : null;
    this.#head = [];
  }

  #checkSize(): void {
    if (this.#videoMime === undefined) return;
    const video = this.#videoMime !== null;
    const max = video ? this.#limits.maxVideoBytes : this.#limits.maxBytes;
    if (Math.max(this.#size, this.#leastBytes) > max) {
      throw new AppError(
        'SM_ERR_UPLOAD_TOO_LARGE',
        `The upload is over ${max} bytes (${video ? 'MAX_VIDEO_UPLOAD_SIZE, for a video' : 'MAX_UPLOAD_SIZE'})`,
      );
    }
  }
}
