import { z } from 'zod';
import { ChatPostSchema, ChatMessageSchema } from '../../../shared/chat.js';
import { DataPatchSchema } from '../../../shared/data-binding.js';
import { ChatListSchema, DataAnswerSchema } from '../../../shared/responses.js';
import type { RouteGroup } from './route-doc.js';

/** The routes of http/data-routes.ts: live data for text placeholders. */
export const dataGroup: RouteGroup = {
  tag: 'data',
  description: "Live data for text placeholders (`{bid}`, `{bid:.2}`, `{bid:,.2}` in a text layer's content)",
  routes: [
    {
      method: 'get',
      path: '/stream/data',
      operationId: 'getData',
      summary: 'The live data and its version',
      ok: DataAnswerSchema,
      etag: true,
    },
    {
      method: 'patch',
      path: '/stream/data',
      operationId: 'patchData',
      summary: 'Change the data (JSON Merge Patch: `{"bid": 1.7}` sets, `{"bid": null}` removes)',
      description: 'Every text layer bound to a changed key re-renders on the next frame; WebSocket `dataUpdate`. Kept in the state store.',
      body: DataPatchSchema,
      ok: DataAnswerSchema,
      etag: true,
      errors: ['SM_ERR_LIMIT_REACHED'],
    },
  ],
};

/** The routes of http/chat-routes.ts. */
export const chatGroup: RouteGroup = {
  tag: 'chat',
  description: 'Chat messages, shown by every `chat` layer and sent to WebSocket `chat` subscribers (kept in memory, not stored)',
  routes: [
    {
      method: 'get',
      path: '/stream/chat',
      operationId: 'listChat',
      summary: 'The last 50 messages, oldest first',
      ok: ChatListSchema,
    },
    {
      method: 'post',
      path: '/stream/chat',
      operationId: 'postChat',
      summary: 'Post a message',
      description:
        'Control characters are removed and whitespace runs become one space, then `user` must be 1-32 and `text` 1-280 characters.',
      body: ChatPostSchema,
      ok: ChatMessageSchema,
      status: 201,
    },
    {
      method: 'delete',
      path: '/stream/chat/{id}',
      operationId: 'deleteChat',
      summary: 'Remove a message (moderation)',
      description: 'Chat layers stop showing it from the next frame on. Only the last 200 messages are kept.',
      params: z.object({ id: z.string().min(1).max(64) }),
      ok: null,
      errors: ['SM_ERR_CHAT_NOT_FOUND'],
    },
  ],
};
