import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { formatIssues } from '../../shared/validation.js';

/**
 * Roles, weakest first: `viewer` reads state and watches the preview; `operator` also drives the
 * scene and the stream (start/stop/pause/resume/reset, layers, scene, uploads); `admin` may do
 * everything, including `PATCH /config` and deleting assets.
 */
export const RoleSchema = z.enum(['viewer', 'operator', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `have` may do what needs `need`. */
export function roleAllows(have: Role, need: Role): boolean {
  return RANK[have] >= RANK[need];
}

/**
 * A token as a client sends it: 16 to 256 characters that are legal both in an HTTP header and in
 * a `Sec-WebSocket-Protocol` value (RFC 6455 section 4.1: an HTTP token), so the same string works
 * for `Authorization: Bearer`, `?token=` and the WebSocket subprotocol `bearer.<token>`.
 * `openssl rand -hex 32` makes a good one.
 */
export const TokenSchema = z.string().regex(/^[A-Za-z0-9._~+-]{16,256}$/, 'A token is 16-256 characters of A-Z a-z 0-9 . _ ~ + -');

const HEX_SHA256 = z.string().regex(/^[0-9a-f]{64}$/, 'Expected the SHA-256 of the token, 64 lowercase hex characters');

/**
 * The tokens file (`AUTH_TOKENS_FILE`): JSON `{ "tokens": [{ "name", "role", "sha256" | "token" }] }`.
 * Prefer `sha256` (`printf %s "$TOKEN" | sha256sum`) so the file holds no secret.
 */
export const TokensFileSchema = z.strictObject({
  tokens: z
    .array(
      z.union([
        z.strictObject({ name: z.string().min(1).max(64), role: RoleSchema, sha256: HEX_SHA256 }),
        z.strictObject({ name: z.string().min(1).max(64), role: RoleSchema, token: TokenSchema }),
      ]),
    )
    .max(1000),
});

/**
 * `AUTH_TOKENS`: comma-separated `role:token` entries, e.g. `admin:3f9a...,viewer:77c1...`.
 * Each gets the name `<role>-<n>` (n counts from 1 per role) in logs and rate-limit keys.
 */
export const AuthTokensEnvSchema = z
  .string()
  .transform((s) => s.split(',').map((e) => e.trim()).filter(Boolean))
  .pipe(
    z.array(
      z
        .string()
        .transform((e) => {
          const i = e.indexOf(':');
          return { role: i < 0 ? '' : e.slice(0, i), token: i < 0 ? e : e.slice(i + 1) };
        })
        .pipe(z.object({ role: RoleSchema, token: TokenSchema })),
    ),
  );

/** Who made a request: the name of the token it carried and that token's role. */
export interface Principal {
  name: string;
  role: Role;
}

/** The caller when no tokens are configured (the server is then reachable from loopback only). */
export const LOCAL_ADMIN: Principal = { name: 'local', role: 'admin' };

interface Entry extends Principal {
  digest: Buffer;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The configured tokens, held only as SHA-256 digests. {@link identify} hashes what a client sent
 * and compares it with every digest using `crypto.timingSafeEqual` (32 bytes against 32 bytes, so
 * the lengths always match) without stopping at the first match: the time taken does not tell an
 * attacker how much of a guess was right, nor which entry matched.
 */
export class TokenSet {
  readonly #entries: Entry[];
  readonly #metrics: Buffer | null;

  /**
   * @param entries tokens by name and role; `digest` is the SHA-256 of the token (32 bytes)
   * @param metricsToken the token that may read `/metrics` (besides admin tokens), or null: open
   */
  constructor(entries: { name: string; role: Role; digest: Buffer }[], metricsToken: string | null = null) {
    this.#entries = entries.map((e) => ({ ...e }));
    this.#metrics = metricsToken === null ? null : sha256(metricsToken);
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
    const digest = sha256(presented);
    let found: Entry | null = null;
    for (const e of this.#entries) if (timingSafeEqual(e.digest, digest) && found === null) found = e;
    return found && { name: found.name, role: found.role };
  }

  /** True when `/metrics` is open (no METRICS_TOKEN), or `presented` is the METRICS_TOKEN or an admin token. */
  mayReadMetrics(presented: string | null): boolean {
    if (this.#metrics === null) return true;
    if (presented === null) return false;
    return timingSafeEqual(this.#metrics, sha256(presented)) || this.identify(presented)?.role === 'admin';
  }

  /**
   * Builds the set from `AUTH_TOKENS` entries and the parsed tokens file.
   * @throws Error when two entries share a name or a token
   */
  static from(envTokens: { role: Role; token: string }[], file: z.infer<typeof TokensFileSchema> | null, metricsToken: string | null): TokenSet {
    const perRole = new Map<Role, number>();
    const entries = envTokens.map(({ role, token }) => {
      const n = (perRole.get(role) ?? 0) + 1;
      perRole.set(role, n);
      return { name: `${role}-${n}`, role, digest: sha256(token) };
    });
    for (const t of file?.tokens ?? []) {
      entries.push({ name: t.name, role: t.role, digest: 'sha256' in t ? Buffer.from(t.sha256, 'hex') : sha256(t.token) });
    }
    const names = new Set<string>();
    const digests = new Set<string>();
    for (const e of entries) {
      if (names.has(e.name)) throw new Error(`Two tokens are named "${e.name}"`);
      if (digests.has(e.digest.toString('hex'))) throw new Error(`Token "${e.name}" is configured twice`);
      names.add(e.name);
      digests.add(e.digest.toString('hex'));
    }
    return new TokenSet(entries, metricsToken);
  }
}

/**
 * Reads and validates a tokens file.
 * @throws Error naming the file and what is wrong with it
 */
export function readTokensFile(path: string): z.infer<typeof TokensFileSchema> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`AUTH_TOKENS_FILE ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = TokensFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`AUTH_TOKENS_FILE ${path}: ${formatIssues(parsed.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
