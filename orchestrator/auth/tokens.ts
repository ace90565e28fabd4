/**
 * Checking a presented token: roles and what each may do, and the configured tokens (read by
 * config/tokens.ts) as a set that answers who is calling, in constant time.
 */
import { timingSafeEqual } from 'node:crypto';
import { tokenDigest, type Role, type TokenEntry } from '../config/tokens.js';

export type { Role } from '../config/tokens.js';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `have` may do what needs `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/** Who made a request: the name of the token it carried and that token's role. */
export interface Principal {
  name: string;
  role: Role;
}

/** The caller when no tokens are configured (the server is then reachable from loopback only). */
export const LOCAL_ADMIN: Principal = { name: 'local', role: 'admin' };

/**
 * The configured tokens, held only as SHA-256 digests. {@link identify} hashes what a client sent
 * and compares it with every digest using `crypto.timingSafeEqual` (32 bytes against 32 bytes, so
 * the lengths always match) without stopping at the first match: the time taken does not tell an
 * attacker how much of a guess was right, nor which entry matched.
 */
export class TokenSet {
  readonly #entries: TokenEntry[];
  readonly #metrics: Buffer | null;

  /**
   * @param entries tokens by name and role (config/tokens.ts `tokenEntries`); `digest` is the SHA-256 of the token (32 bytes)
   * @param metricsDigest SHA-256 of the token that may read `/metrics` (besides admin tokens), or null: open
   */
  constructor(entries: readonly TokenEntry[], metricsDigest: Buffer | null = null) {
    this.#entries = entries.map((e) => ({ ...e }));
    this.#metrics = metricsDigest;
  }

  /** Number of tokens; 0 means auth is off (the server then binds to loopback only). */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Who is calling: with no tokens configured (auth off) always {@link LOCAL_ADMIN}; else the
   * principal whose token is `presented`, or null.
   */
  authenticate(presented: string | null): Principal | null {
    return this.#entries.length === 0 ? LOCAL_ADMIN : this.identify(presented);
  }

  /** The principal whose token is `presented`, or null. Constant time in the token's content. */
  identify(presented: string | null): Principal | null {
    if (presented === null) return null;
    const digest = tokenDigest(presented);
    let found: TokenEntry | null = null;
    for (const e of this.#entries) if (timingSafeEqual(e.digest, digest) && found === null) found = e;
    return found && { name: found.name, role: found.role };
  }

  /** True when `/metrics` is open (no METRICS_TOKEN), or `presented` is the METRICS_TOKEN or an admin token. */
  mayReadMetrics(presented: string | null): boolean {
    if (this.#metrics === null) return true;
    if (presented === null) return false;
    return timingSafeEqual(this.#metrics, tokenDigest(presented)) || this.identify(presented)?.role === 'admin';
  }
}
