import type { Router } from '@koa/router';
import { AppError } from '../../shared/errors.js';
import type { ChatFeed } from '../chat/chat-feed.js';

/**
 * Chat: `POST /chat` (`{user, text}`; control characters are stripped, then 1-32 and 1-280
 * characters; 201 with the stored message, which also goes to WebSocket `chat` subscribers and
 * every `chat` layer), `GET /chat` (the last 50 messages, oldest first) and `DELETE /chat/:id`
 * (moderation: 204, chat layers drop it on the next frame; 404 `SM_ERR_CHAT_NOT_FOUND`).
 */
export function chatRoutes(router: Router, chat: ChatFeed): void {
  router.get('/chat', (ctx) => {
    ctx.body = { messages: chat.recent() };
  });
  router.post('/chat', (ctx) => {
    const message = chat.post(ctx.request.body);
    ctx.status = 201;
    ctx.body = message;
  });
  router.delete('/chat/:id', (ctx) => {
    if (!chat.remove(ctx.params['id'] ?? '')) throw new AppError('SM_ERR_CHAT_NOT_FOUND');
    ctx.status = 204;
  });
}
