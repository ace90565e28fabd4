import type { Logger } from 'pino';
import type { ServerConfig } from '../config/env.js';
import { HostPolicy } from './host-policy.js';
import { OriginPolicy } from './origin-policy.js';
import { TokenSet } from './tokens.js';

/** Who may call and from where, as the configuration sets it. */
export interface Access {
  tokens: TokenSet;
  /** CORS_ORIGINS: cross-origin HTTP and the `Origin` check on WebSocket upgrades. */
  origins: OriginPolicy;
  /** The `Host` names served: loopback names, ALLOWED_HOSTS; enforced with auth off or ALLOWED_HOSTS set. */
  hosts: HostPolicy;
}

/**
 * The access checks for `config`: its tokens, allowed origins and Host names. With no tokens
 * (auth off) it warns once: the server then answers on loopback only.
 */
export function accessFor(config: Pick<ServerConfig, 'auth' | 'net' | 'host'>, log: Logger): Access {
  const tokens = new TokenSet(config.auth.tokens, config.auth.metricsToken);
  if (tokens.size === 0) log.warn({ host: config.host }, 'no AUTH_TOKENS: authentication is off and the server listens on loopback only');
  return { tokens, origins: new OriginPolicy(config.auth.corsOrigins), hosts: new HostPolicy(config.net.allowedHosts, tokens.size === 0) };
}
