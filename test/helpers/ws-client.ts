import { WebSocket } from 'ws';

/** A real `ws` client that buffers JSON messages so a test can wait for the next one of a type. */
export interface WsClient {
  ws: WebSocket;
  /** Resolves with the next message of `type` (already received ones first). */
  next(type: string, timeoutMs?: number): Promise<any>;
  send(value: unknown): void;
  close(): void;
}

/** Opens a socket and waits until it is open. */
export async function connect(url: string): Promise<WsClient> {
  const ws = new WebSocket(url);
  const queue: any[] = [];
  const waiters: { type: string; resolve: (m: any) => void }[] = [];
  ws.on('message', (raw) => {
    const msg = JSON.parse(raw.toString());
    const i = waiters.findIndex((w) => w.type === msg.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(msg);
    else queue.push(msg);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return {
    ws,
    next(type, timeoutMs = 5000) {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        const waiter = { type, resolve: (m: any) => (clearTimeout(timer), resolve(m)) };
        const timer = setTimeout(() => {
          // A waiter that timed out must not swallow a later message.
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no ${type} message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    send: (value) => ws.send(typeof value === 'string' ? value : JSON.stringify(value)),
    close: () => ws.close(),
  };
}
