import { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Role } from './user-payload.js';

export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** The issuer every ticketing access token names, and every verifier requires. */
export const TOKEN_ISSUER = 'ticketing-auth';

export interface TokenSignerOptions {
  key: KeyObject;
  /** Lifetime of each token, in milliseconds; rounded down to whole seconds. */
  ttlMs: number;
  issuer?: string;
  algorithm?: HmacAlgorithm;
  /** The clock, in milliseconds since the epoch; tests freeze it. */
  now?: () => number;
}

export interface TokenSigner {
  /**
   * Signs an access token for this user; returns the compact JWT. `issuedAtMs` dates it from a
   * clock of the caller's choosing (auth uses its database's, the same clock that dates bans).
   */
  sign(user: { id: string; email: string; role: Role }, options?: { issuedAtMs?: number }): string;
}

/**
 * Signs access tokens with `id`, `email`, `role`, `iat`, `exp` and `iss`.
 *
 * @example
 * const signer = createTokenSigner({ key: createTokenKey(config.jwtKey), ttlMs: 15 * 60_000 });
 * req.session = { jwt: signer.sign(user) };
 */
export function createTokenSigner(options: TokenSignerOptions): TokenSigner {
  if (!(options.key instanceof KeyObject) || options.key.type !== 'secret') {
    throw new TypeError('createTokenSigner: key must be a secret KeyObject (see createTokenKey)');
  }
  const ttlSeconds = Math.floor(options.ttlMs / 1000);
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 1) {
    throw new TypeError('createTokenSigner: ttlMs must be at least 1000');
  }
  const { key } = options;
  const issuer = options.issuer ?? TOKEN_ISSUER;
  const algorithm = options.algorithm ?? 'HS256';
  const now = options.now ?? Date.now;
  return {
    sign(user, signOptions = {}) {
      const iat = Math.floor((signOptions.issuedAtMs ?? now()) / 1000);
      return jwt.sign(
        { id: user.id, email: user.email, role: user.role, iat, exp: iat + ttlSeconds },
        key,
        { algorithm, issuer },
      );
    },
  };
}
