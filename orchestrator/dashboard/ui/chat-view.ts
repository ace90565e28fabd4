import type { ChatMessage } from '../../../shared/chat.js';
import { busy, el, enc, labelled, type PageContext } from './dom.js';

/** Messages the panel lists (the server keeps 200 and answers the last 50). */
const SHOWN = 50;

/**
 * Chat: post a message (`POST /stream/chat`), the last messages (`GET /stream/chat`, then WS
 * `chat`), and Delete on each (`DELETE /stream/chat/:id`: moderation, chat layers drop it on the
 * next frame; WS `chatRemoved` drops one deleted elsewhere). User names and texts are shown as text only.
 */
export class ChatView {
  readonly #list: HTMLOListElement;
  #messages: ChatMessage[] = [];

  constructor(
    root: HTMLElement,
    private readonly ctx: PageContext,
  ) {
    this.#list = el('ol', { id: 'chat-list', className: 'rows' });
    const user = el('input', { id: 'chat-user', type: 'text', required: true, maxLength: 32, value: 'host' });
    const text = el('input', { id: 'chat-text', type: 'text', required: true, maxLength: 280, placeholder: 'message' });
    const post = el('button', { type: 'submit', id: 'chat-post', textContent: 'Post' });
    const form = el('form', { id: 'chat-form', className: 'inline' }, labelled('User', user), labelled('Text', text), post);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      void busy(post, async () => {
        try {
          this.add(await this.ctx.api.request<ChatMessage>('POST', '/chat', { user: user.value, text: text.value }));
          text.value = '';
        } catch (err) {
          this.ctx.fail(err);
        }
      });
    });
    root.append(form, this.#list);
  }

  async refresh(): Promise<void> {
    try {
      this.#messages = (await this.ctx.api.request<{ messages: ChatMessage[] }>('GET', '/chat')).messages;
      this.#render();
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  /** A new message (a post's answer or WS `chat`); one already listed is not added twice. */
  add(m: ChatMessage): void {
    if (this.#messages.some((x) => x.id === m.id)) return;
    this.#messages = [...this.#messages, m].slice(-SHOWN);
    this.#render();
  }

  /** A message was deleted (here, by another dashboard or a client: WS `chatRemoved`). */
  remove(id: string): void {
    if (!this.#messages.some((x) => x.id === id)) return;
    this.#messages = this.#messages.filter((x) => x.id !== id);
    this.#render();
  }

  async #delete(id: string): Promise<void> {
    try {
      await this.ctx.api.request('DELETE', `/chat/${enc(id)}`);
    } catch (err) {
      this.ctx.fail(err);
    }
    await this.refresh();
  }

  #render(): void {
    this.#list.replaceChildren(
      ...[...this.#messages].reverse().map((m) => {
        const del = el('button', { type: 'button', className: 'chat-delete', textContent: 'Delete' });
        del.setAttribute('aria-label', `Delete the message of ${m.user}`);
        del.addEventListener('click', () => void busy(del, () => this.#delete(m.id)));
        const li = el(
          'li',
          { className: 'chat' },
          el('b', { textContent: m.user }),
          ' ',
          el('span', { className: 'chat-text', textContent: m.text }),
          del,
        );
        li.dataset['id'] = m.id;
        return li;
      }),
    );
  }
}
