/** What a scrubbed secret reads as in logs. */
export const REDACTED = '[REDACTED]';

/** Query parameters whose values never reach a log: `?token=` carries a WebSocket token. */
const SECRET_PARAMS = new Set(['token', 'access_token']);

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return key.toLowerCase();
  }
}

/**
 * A request URL (`/path?query#fragment`, or absolute) for the log: the value of every `token` (or
 * `access_token`) query parameter replaced by `[REDACTED]`, however its name is written
 * (`TOKEN`, `to%6Ben`: `URLSearchParams` decodes names). Everything else is kept as sent.
 * Non-strings pass through unchanged (pino serializers get whatever the caller logged).
 */
export function scrubUrl(url: unknown): unknown {
  if (typeof url !== 'string') return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const scrubbed = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      return SECRET_PARAMS.has(decodeKey(key)) ? `${key}=${REDACTED}` : pair;
    })
    .join('&');
  return url.slice(0, q + 1) + scrubbed + (hash < 0 ? '' : url.slice(hash));
}
