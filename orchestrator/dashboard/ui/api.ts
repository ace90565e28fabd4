import type { AssetMeta } from '../../../shared/state-doc.js';

/**
 * The REST client of the dashboard: `fetch` with the token as `Authorization: Bearer`, JSON in and
 * out, and the server's `{error: {code, message}}` turned into an `ApiError`.
 */

/** A refused or failed request: HTTP status (0: the server could not be reached), stable code, message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before retrying (429's `Retry-After`), else null. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * What to tell a person about an error: plain words for 401 and 429, the role the server wants for
 * a 403 (its message names it: an operator token is refused what needs `admin`), else the server's message.
 */
export function explain(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  switch (err.status) {
    case 0:
      return 'The server cannot be reached.';
    case 401:
      return 'The server wants a valid token: enter one above (401).';
    case 403:
      return err.code === 'SM_ERR_ORIGIN_FORBIDDEN'
        ? "This page's origin is not allowed by the server (403)."
        : `Your token's role may not do this: ${err.message} (403).`;
    case 429:
      return `Too many requests: try again in ${err.retryAfterSeconds ?? 1} s (429).`;
    default:
      return `${err.message} (${err.status} ${err.code})`;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const retry = res.headers.get('Retry-After');
  let code = `HTTP_${res.status}`;
  let message = res.statusText;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // Not JSON: keep the status text.
  }
  return new ApiError(res.status, code, message, retry === null ? null : Number(retry));
}

export class Api {
  /** @param token the current token, or null when none is set */
  constructor(private readonly token: () => string | null) {}

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const t = this.token();
    return t ? { ...extra, Authorization: `Bearer ${t}` } : extra;
  }

  /**
   * One JSON request under `/stream`.
   * @param path e.g. `/layers/bid` (prefixed with `/stream`)
   * @throws ApiError for a non-2xx answer (status 0 when the network failed)
   */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`/stream${path}`, {
        method,
        headers: this.#headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : 'network error');
    }
    if (!res.ok) throw await toApiError(res);
    return (res.status === 204 ? null : await res.json()) as T;
  }

  /**
   * Uploads one file to `POST /stream/assets/upload` (multipart), reporting progress as a fraction
   * 0..1 of the bytes sent. XMLHttpRequest, because `fetch` has no upload progress.
   * @throws ApiError when the server refuses it or the network fails
   */
  upload(file: File, onProgress: (fraction: number) => void): Promise<AssetMeta> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/stream/assets/upload');
      for (const [k, v] of Object.entries(this.#headers())) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'upload failed'));
      xhr.onload = () => {
        let body: { error?: { code?: string; message?: string } } & Partial<AssetMeta> = {};
        try {
          body = JSON.parse(xhr.responseText) as typeof body;
        } catch {
          // keep {}
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(1);
          resolve(body as AssetMeta);
        } else {
          const retry = xhr.getResponseHeader('Retry-After');
          reject(
            new ApiError(
              xhr.status,
              body.error?.code ?? `HTTP_${xhr.status}`,
              body.error?.message ?? xhr.statusText,
              retry === null ? null : Number(retry),
            ),
          );
        }
      };
      const form = new FormData();
      form.append('file', file, file.name);
      xhr.send(form);
    });
  }
}
