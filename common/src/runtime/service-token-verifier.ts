import { createTokenVerifier, type TokenVerifier } from '../tokens/token-verifier.js';
import { cacheVerifiedTokens } from '../tokens/verified-token-cache.js';
import type { ServiceConfig } from './config.js';

/**
 * The token verifier a service runs, from its config: its keys (`JWT_KEY`, or `JWT_PUBLIC_KEYS`),
 * its own `ACCESS_TOKEN_TTL` as the longest lifetime accepted, `CLOCK_SKEW` as the tolerance, and
 * the verified-token cache of `TOKEN_CACHE_MAX` entries (none when 0).
 *
 * @example
 * createServiceApp({ ..., verifier: createServiceTokenVerifier(config) });
 */
export function createServiceTokenVerifier(
  config: Pick<ServiceConfig, 'tokenKeys' | 'accessTokenTtlMs' | 'clockSkewMs' | 'tokenCacheMax'>,
  options: { now?: () => number } = {},
): TokenVerifier {
  const verifier = createTokenVerifier({
    ...config.tokenKeys,
    maxLifetimeMs: config.accessTokenTtlMs,
    clockToleranceMs: config.clockSkewMs,
    now: options.now,
  });
  return config.tokenCacheMax === 0 ? verifier : cacheVerifiedTokens(verifier, { max: config.tokenCacheMax, now: options.now });
}
