import { LRUCache } from 'lru-cache';
import type { TokenVerifier } from './token-verifier.js';
import type { UserPayload } from './user-payload.js';

/** The most entries `cacheVerifiedTokens` accepts: tokens are a few hundred bytes each. */
export const MAX_TOKEN_CACHE_ENTRIES = 1_000_000;

export interface VerifiedTokenCacheOptions {
  /** The most tokens held (`TOKEN_CACHE_MAX`); the least recently used goes first. */
  max: number;
  /** The clock, in milliseconds since the epoch; give it the verifier's. */
  now?: () => number;
}

/**
 * A verifier that remembers the claims of tokens it has verified, keyed by the exact token string,
 * so that a token presented again costs a map lookup rather than a signature check (an ES256
 * verification is about seven times an HS256 one). Only tokens `verifier` accepted are kept, and
 * only until their `exp`, so a hit answers exactly what verifying again would: the signature,
 * issuer, lifetime and claims of those very bytes were checked, and only time changes the verdict.
 * The ban check is not the verifier's: `requireAuth` still runs it on every request.
 *
 * @example
 * const verifier = cacheVerifiedTokens(createTokenVerifier({ publicKeys, maxLifetimeMs }), { max: 10_000 });
 */
export function cacheVerifiedTokens(verifier: TokenVerifier, options: VerifiedTokenCacheOptions): TokenVerifier {
  if (typeof verifier?.verify !== 'function') throw new TypeError('cacheVerifiedTokens: verifier is required');
  const { max } = options;
  if (!Number.isSafeInteger(max) || max < 1 || max > MAX_TOKEN_CACHE_ENTRIES) {
    throw new TypeError(`cacheVerifiedTokens: max must be an integer from 1 to ${MAX_TOKEN_CACHE_ENTRIES}, got ${String(max)}`);
  }
  const now = options.now ?? Date.now;
  const cache = new LRUCache<string, UserPayload>({ max });
  return {
    verify(token) {
      const hit = cache.get(token);
      if (hit !== undefined) {
        if (now() < hit.exp * 1000) return hit;
        cache.delete(token);
      }
      // Throws for a refused token, which is never kept.
      const claims = Object.freeze(verifier.verify(token));
      cache.set(token, claims);
      return claims;
    },
  };
}
