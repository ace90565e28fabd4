import { isIP } from 'node:net';

/** `Host` syntax we parse at all: a bracketed IPv6 literal or a DNS name / IPv4, then an optional port. */
const HOST_SYNTAX = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i;

/**
 * The host name of a `Host` header (RFC 9110 section 7.2) or an origin's authority, lower case,
 * IPv6 without brackets and in canonical form (`[0:0::1]` gives `::1`), IPv4 in dotted form, no
 * port; or null when it is not a plain `host[:port]` (userinfo, a path, spaces, an empty name).
 */
export function hostName(host: string): string | null {
  const m = HOST_SYNTAX.exec(host.trim());
  if (!m) return null;
  try {
    // The WHATWG URL parser canonicalises the name (case, IPv6 zero runs, IPv4 forms).
    const name = new URL(`http://${m[1]}`).hostname;
    return name.startsWith('[') ? name.slice(1, -1) : name;
  } catch {
    return null;
  }
}

/** True for `localhost` and the loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x.x.x). */
export function isLoopbackName(name: string): boolean {
  if (name === 'localhost') return true;
  const kind = isIP(name);
  if (kind === 4) return name.startsWith('127.');
  if (kind === 6) return name === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(name);
  return false;
}

/**
 * Which `Host` names this server answers to: the defence against DNS rebinding, where a page on
 * another site whose name resolves to 127.0.0.1 reaches a server with no tokens. Enforced when
 * auth is off (every request would be admin), or when `ALLOWED_HOSTS` is set. Allowed then:
 * loopback names (`localhost`, 127.0.0.0/8, `[::1]`), with any port, and the `ALLOWED_HOSTS`
 * entries (host names, compared without case and port; `*` turns the check off).
 */
export class HostPolicy {
  readonly #allowed: Set<string>;
  readonly enforced: boolean;

  /**
   * @param allowed ALLOWED_HOSTS entries (host names; a port in an entry is ignored)
   * @param authOff true when no tokens are configured
   */
  constructor(allowed: readonly string[], authOff: boolean) {
    this.#allowed = new Set(allowed.map((h) => (h === '*' ? h : (hostName(h) ?? h.toLowerCase()))));
    this.enforced = !this.#allowed.has('*') && (authOff || this.#allowed.size > 0);
  }

  /** True when a request with this `Host` header may be served. */
  allows(host: string | undefined): boolean {
    if (!this.enforced) return true;
    if (!host) return false;
    const name = hostName(host);
    return name !== null && (isLoopbackName(name) || this.#allowed.has(name));
  }
}
