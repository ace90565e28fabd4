import { z } from 'zod';

/**
 * Chat: `POST /stream/chat` messages, the WS `chat` message, and the lines a `chat` layer shows.
 */

/** Longest user name and message text, in characters (code points) after cleaning. */
export const CHAT_USER_MAX = 32;
export const CHAT_TEXT_MAX = 280;

/** C0/C1 control characters and the bidirectional overrides and isolates (they could reorder other lines). */
const CONTROL = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Removes control characters, turns runs of whitespace into one space, and trims. */
export function cleanChatText(s: string): string {
  return s.replace(CONTROL, ' ').replace(/\s+/gu, ' ').trim();
}

/** A string cleaned with {@link cleanChatText}, then 1..`max` code points. */
function cleaned(max: number) {
  return z
    .string()
    .max(max * 4)
    .transform(cleanChatText)
    .pipe(
      z.string().refine((s) => s.length > 0 && [...s].length <= max, {
        message: `Expected 1-${max} characters after control characters are removed`,
      }),
    );
}

/** The body of `POST /stream/chat`. */
export const ChatPostSchema = z.strictObject({ user: cleaned(CHAT_USER_MAX), text: cleaned(CHAT_TEXT_MAX) });
export type ChatPost = z.infer<typeof ChatPostSchema>;

/** A posted message: `at` in ms since the Unix epoch, `sceneMs` on the scene clock. */
export const ChatMessageSchema = z.strictObject({
  id: z.string(),
  user: z.string(),
  text: z.string(),
  at: z.number(),
  sceneMs: z.number(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/** A message as a chat layer draws it at one frame time: `alpha` 0..1 fades it out after its TTL. */
export interface ChatLine {
  user: string;
  text: string;
  alpha: number;
}
