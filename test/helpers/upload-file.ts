import { randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';

/**
 * POSTs one file to `<base>/stream/assets/upload` as multipart/form-data with a Content-Length,
 * streamed from disk (`source` a path: the client holds one chunk at a time, so a test of the
 * server's memory is not a test of its own) or sent from memory (a Buffer). Resolves with the
 * status and the parsed JSON answer (the text when it is not JSON, null when empty).
 * @throws Error when the connection fails before an answer
 */
export function uploadFile(
  base: string,
  source: string | Buffer,
  name: string,
  type = 'application/octet-stream',
): Promise<{ status: number; body: any }> {
  const boundary = `sm-upload-${randomBytes(6).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = typeof source === 'string' ? statSync(source).size : source.length;
  const url = new URL(`${base}/stream/assets/upload`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + size + tail.length },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            // Not JSON: the text as it came.
          }
          resolve({ status: res.statusCode!, body });
        });
      },
    );
    req.on('error', reject);
    req.write(head);
    if (typeof source !== 'string') return void req.end(Buffer.concat([source, tail]));
    const file = createReadStream(source);
    file.on('error', reject);
    file.on('end', () => req.end(tail));
    file.pipe(req, { end: false });
  });
}
