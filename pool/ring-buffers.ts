import { BroadcastChannel } from 'node:worker_threads';
import type { RingMessage } from './job-ring-layout.js';

/**
 * The job ring's SharedArrayBuffers as the workers know them (pool/job-ring-layout.ts): each
 * gets an id the first time a job names it, is announced on the ring's BroadcastChannel before
 * that job is published ({@link announce}), and is forgotten there once this thread's copy is
 * collected (a FinalizationRegistry). A worker that says hello gets every live buffer.
 */
export class RingBuffers {
  readonly #channel: BroadcastChannel;
  readonly #ids = new WeakMap<SharedArrayBuffer, number>();
  readonly #live = new Map<number, WeakRef<SharedArrayBuffer>>();
  readonly #collected = new FinalizationRegistry<number>((id) => {
    this.#live.delete(id);
    if (!this.#closed) this.#channel.postMessage({ forget: [id] } satisfies RingMessage);
  });
  #nextId = 1;
  #added: Array<[number, SharedArrayBuffer]> = [];
  #closed = false;
  #hellos = 0;

  /**
   * @param channel the ring's BroadcastChannel name
   * @param onHello called after each worker's hello has been answered
   */
  constructor(channel: string, onHello?: () => void) {
    this.#channel = new BroadcastChannel(channel);
    this.#channel.onmessage = (event: unknown) => {
      if ((event as { data: RingMessage }).data.hello === undefined || this.#closed) return;
      const buffers: Array<[number, SharedArrayBuffer]> = [];
      for (const [id, ref] of this.#live) {
        const buffer = ref.deref();
        if (buffer) buffers.push([id, buffer]);
      }
      this.#channel.postMessage({ buffers } satisfies RingMessage);
      this.#hellos++;
      onHello?.();
    };
    this.#channel.unref();
  }

  /** Buffers announced and not yet collected here. */
  get size(): number {
    return this.#live.size;
  }

  /** Workers that have asked to join so far (replacements count again). */
  get hellos(): number {
    return this.#hellos;
  }

  /** The id of `buffer`, new ones queued for the next {@link announce}. */
  idOf = (buffer: SharedArrayBuffer): number => {
    let id = this.#ids.get(buffer);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(buffer, id);
      this.#live.set(id, new WeakRef(buffer));
      this.#collected.register(buffer, id);
      this.#added.push([id, buffer]);
    }
    return id;
  };

  /** Posts the buffers named for the first time since the last post (before the job that uses them). */
  announce(): void {
    if (this.#added.length === 0) return;
    this.#channel.postMessage({ add: this.#added } satisfies RingMessage);
    this.#added = [];
  }

  /** Stops answering and announcing. */
  close(): void {
    this.#closed = true;
    this.#channel.close();
  }
}
