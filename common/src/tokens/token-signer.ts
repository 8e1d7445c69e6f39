import { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { isP256, tokenKeyId } from './key-id.js';
import type { Role } from './user-payload.js';

export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** The issuer every ticketing access token names, and every verifier requires. */
export const TOKEN_ISSUER = 'ticketing-auth';

export interface TokenSignerOptions {
  /**
   * A secret `KeyObject` (see `createTokenKey`) signs HS256, or `algorithm`; an EC P-256 private
   * key (see `createTokenSigningKey`) signs ES256 with its `kid` in the header.
   */
  key: KeyObject;
  /** Lifetime of each token, in milliseconds; rounded down to whole seconds. */
  ttlMs: number;
  issuer?: string;
  /** The HMAC algorithm, for a secret key only (default HS256). */
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

/** How a key signs: HMAC with a secret, or ES256 with a private key named by its `kid`. */
function signingOf(options: TokenSignerOptions): jwt.SignOptions {
  const { key } = options;
  if (key instanceof KeyObject && key.type === 'secret') return { algorithm: options.algorithm ?? 'HS256' };
  if (key instanceof KeyObject && key.type === 'private' && isP256(key)) {
    if (options.algorithm !== undefined) throw new TypeError('createTokenSigner: algorithm is for secret keys; a P-256 private key signs ES256');
    return { algorithm: 'ES256', keyid: tokenKeyId(key) };
  }
  throw new TypeError('createTokenSigner: key must be a secret KeyObject (see createTokenKey) or an EC P-256 private key (see createTokenSigningKey)');
}

/**
 * Signs access tokens with `id`, `email`, `role`, `iat`, `exp` and `iss`: HS256 with a shared
 * secret, or ES256 (with a `kid`) with auth's private key.
 *
 * @example
 * const signer = createTokenSigner({ key: createTokenSigningKey(process.env.JWT_PRIVATE_KEY!), ttlMs: 15 * 60_000 });
 * req.session = { jwt: signer.sign(user) };
 */
export function createTokenSigner(options: TokenSignerOptions): TokenSigner {
  const signing = signingOf(options);
  const ttlSeconds = Math.floor(options.ttlMs / 1000);
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 1) {
    throw new TypeError('createTokenSigner: ttlMs must be at least 1000');
  }
  const { key } = options;
  const issuer = options.issuer ?? TOKEN_ISSUER;
  const now = options.now ?? Date.now;
  return {
    sign(user, signOptions = {}) {
      const iat = Math.floor((signOptions.issuedAtMs ?? now()) / 1000);
      return jwt.sign(
        { id: user.id, email: user.email, role: user.role, iat, exp: iat + ttlSeconds },
        key,
        { ...signing, issuer },
      );
    },
  };
}
