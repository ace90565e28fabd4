/**
 * Who may call, as the configuration says it: the roles, the token format, `AUTH_TOKENS`,
 * `AUTH_TOKENS_FILE` and `METRICS_TOKEN`, read into SHA-256 digests at start so that no token is
 * kept in memory. Checking a presented token against them is auth/'s part (`TokenSet`).
 */
import { createHash } from 'node:crypto';
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
  .transform((s) =>
    s
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
  )
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

/** One configured token: its name (in logs and rate-limit keys), role, and SHA-256 (32 bytes). */
export interface TokenEntry {
  name: string;
  role: Role;
  digest: Buffer;
}

/** SHA-256 of a token's UTF-8 bytes (32 bytes). */
export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/**
 * The configured tokens from `AUTH_TOKENS` entries and the parsed tokens file, as digests.
 * @throws Error when two entries share a name or a token
 */
export function tokenEntries(envTokens: { role: Role; token: string }[], file: z.infer<typeof TokensFileSchema> | null): TokenEntry[] {
  const perRole = new Map<Role, number>();
  const entries = envTokens.map(({ role, token }) => {
    const n = (perRole.get(role) ?? 0) + 1;
    perRole.set(role, n);
    return { name: `${role}-${n}`, role, digest: tokenDigest(token) };
  });
  for (const t of file?.tokens ?? []) {
    entries.push({ name: t.name, role: t.role, digest: 'sha256' in t ? Buffer.from(t.sha256, 'hex') : tokenDigest(t.token) });
  }
  const names = new Set<string>();
  const digests = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw new Error(`Two tokens are named "${e.name}"`);
    if (digests.has(e.digest.toString('hex'))) throw new Error(`Token "${e.name}" is configured twice`);
    names.add(e.name);
    digests.add(e.digest.toString('hex'));
  }
  return entries;
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
  if (!parsed.success)
    throw new Error(
      `AUTH_TOKENS_FILE ${path}: ${formatIssues(parsed.error)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
