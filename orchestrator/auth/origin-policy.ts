/**
 * Allowed cross-origin callers. An `Origin` is allowed when it is in `CORS_ORIGINS` (exact
 * `scheme://host[:port]` strings; `*` allows any) or names this server itself (same origin).
 */
export class OriginPolicy {
  readonly #allowed: Set<string>;
  constructor(allowed: readonly string[]) {
    this.#allowed = new Set(allowed);
  }

  /**
   * True when a request from `origin` to this server (`host`: the request's `Host` header) may be
   * served: no Origin (not a browser), the same origin, or an allowed one.
   */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (!origin) return true;
    if (this.#allowed.has('*') || this.#allowed.has(origin)) return true;
    try {
      // Host names compare without case (`Host: LOCALHOST:4200` is the origin http://localhost:4200).
      return host !== undefined && new URL(origin).host === new URL(`http://${host}`).host;
    } catch {
      return false;
    }
  }

  /** True when `origin` is in the allow-list itself (cross-origin callers get CORS headers). */
  listed(origin: string): boolean {
    return this.#allowed.has('*') || this.#allowed.has(origin);
  }
}
