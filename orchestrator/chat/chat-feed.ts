import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { ChatPostSchema, type ChatLine, type ChatMessage } from '../../shared/chat.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { SceneClock } from '../motion/scene-clock.js';
import { freshRevision, type LayerEntry } from '../scene/scene-store.js';

/** Messages kept in memory (the longest chat layer shows 50). */
const KEEP = 200;
/** A fading message's alpha moves in steps of 1/32, so a fade re-renders the layer at most 32 times. */
const ALPHA_STEPS = 32;

/**
 * The chat feed: messages posted to `POST /stream/chat`, kept in memory (the last 200; chat is
 * live, not state, so it is not persisted), emitted as `message` for WebSocket `chat`
 * subscribers (`removed` with `{id}` when one is deleted), and bound into every `chat` layer at
 * each frame time.
 */
export class ChatFeed extends EventEmitter<{ message: [ChatMessage]; removed: [{ id: string }] }> {
  readonly #clock: SceneClock;
  readonly #messages: ChatMessage[] = [];

  constructor(clock: SceneClock) {
    super();
    this.#clock = clock;
  }

  /**
   * Posts a message: cleaned of control characters, length-checked, stamped with the time.
   * @throws AppError SM_ERR_VALIDATION (empty or too long after cleaning, unknown fields)
   */
  post(body: unknown): ChatMessage {
    const { user, text } = parseOrThrow(ChatPostSchema, body, 'chat message');
    const message: ChatMessage = { id: randomUUID(), user, text, at: Date.now(), sceneMs: this.#clock.now() };
    this.#messages.push(message);
    if (this.#messages.length > KEEP) this.#messages.splice(0, this.#messages.length - KEEP);
    this.emit('message', message);
    return message;
  }

  /**
   * Removes one message (moderation): chat layers stop showing it from the next frame on.
   * @returns false when no kept message has this id
   */
  remove(id: string): boolean {
    const i = this.#messages.findIndex((m) => m.id === id);
    if (i < 0) return false;
    this.#messages.splice(i, 1);
    this.emit('removed', { id });
    return true;
  }

  /** The last `limit` messages, oldest first. */
  recent(limit = 50): ChatMessage[] {
    return this.#messages.slice(-limit);
  }

  /**
   * The lines a chat layer shows at scene time `t`: messages posted by `t`, not yet faded out,
   * the newest `max` of them, oldest first.
   */
  linesAt(t: number, max: number, ttlMs: number, fadeMs: number): ChatLine[] {
    const lines: ChatLine[] = [];
    for (let i = this.#messages.length - 1; i >= 0 && lines.length < max; i--) {
      const m = this.#messages[i]!;
      if (m.sceneMs > t) continue;
      const age = t - m.sceneMs;
      if (age >= ttlMs + fadeMs) break;
      const alpha = age < ttlMs ? 1 : Math.ceil((1 - (age - ttlMs) / fadeMs) * ALPHA_STEPS) / ALPHA_STEPS;
      if (alpha > 0) lines.push({ user: m.user, text: m.text, alpha });
    }
    return lines.reverse();
  }

  /**
   * The scene's entries with each chat layer's lines at `t` added to its content (`lines`) and a
   * fresh revision, so the renderer compares its render key and draws only when the lines changed.
   */
  bind(entries: readonly LayerEntry[], t: number): readonly LayerEntry[] {
    let out: LayerEntry[] | null = null;
    entries.forEach((e, i) => {
      const c = e.layer.content;
      if (c.type !== 'chat') return;
      const lines = this.linesAt(t, c.maxMessages, c.ttlMs, c.fadeMs);
      out ??= [...entries];
      out[i] = { ...e, layer: { ...e.layer, content: { ...c, lines } as typeof c }, revision: freshRevision() };
    });
    return out ?? entries;
  }
}
