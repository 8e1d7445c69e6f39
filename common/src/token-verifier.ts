import { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ROLES, type Role, type UserPayload } from './user-payload.js';
import { TOKEN_ISSUER, type HmacAlgorithm } from './token-signer.js';

export interface TokenVerifierOptions {
  key: KeyObject;
  /** The only algorithms accepted; anything else, `none` included, is refused. */
  algorithms?: readonly HmacAlgorithm[];
  issuer?: string;
  /** How far the clocks of auth and this service may disagree, in milliseconds. */
  clockToleranceMs?: number;
  /** The clock, in milliseconds since the epoch; tests freeze it. */
  now?: () => number;
}

/** Why a token was refused; `reason` is safe to log, the token itself is not. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid token: ${reason}`, options);
  }
}

export interface TokenVerifier {
  /** Returns the verified claims, or throws {@link InvalidTokenError}. */
  verify(token: string): UserPayload;
}

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Verifies access tokens locally: pinned algorithms, required issuer and expiry, a bounded clock
 * tolerance, and claims checked for shape.
 *
 * @example
 * const verifier = createTokenVerifier({ key: createTokenKey(config.jwtKey), clockToleranceMs: 30_000 });
 * const user = verifier.verify(token); // throws InvalidTokenError
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (!(options.key instanceof KeyObject) || options.key.type !== 'secret') {
    throw new TypeError('createTokenVerifier: key must be a secret KeyObject (see createTokenKey)');
  }
  const algorithms = [...(options.algorithms ?? ['HS256'])];
  if (algorithms.length === 0) throw new TypeError('createTokenVerifier: algorithms must not be empty');
  const clockToleranceMs = options.clockToleranceMs ?? 30_000;
  if (!Number.isFinite(clockToleranceMs) || clockToleranceMs < 0) {
    throw new TypeError('createTokenVerifier: clockToleranceMs must be a non-negative number');
  }
  const { key } = options;
  const issuer = options.issuer ?? TOKEN_ISSUER;
  const now = options.now ?? Date.now;
  const clockTolerance = Math.floor(clockToleranceMs / 1000);

  return {
    verify(token) {
      const nowMs = now();
      let claims: unknown;
      try {
        claims = jwt.verify(token, key, {
          algorithms,
          issuer,
          clockTolerance,
          clockTimestamp: Math.floor(nowMs / 1000),
        });
      } catch (err) {
        throw new InvalidTokenError((err as Error).message, { cause: err });
      }
      if (typeof claims !== 'object' || claims === null) throw new InvalidTokenError('payload is not an object');
      const { id, email, role, iat, exp } = claims as Record<string, unknown>;
      if (typeof id !== 'string' || id.length === 0) throw new InvalidTokenError('id claim missing');
      if (typeof email !== 'string' || email.length === 0) throw new InvalidTokenError('email claim missing');
      if (!isRole(role)) throw new InvalidTokenError('role claim invalid');
      if (typeof exp !== 'number') throw new InvalidTokenError('exp claim missing');
      if (typeof iat !== 'number') throw new InvalidTokenError('iat claim missing');
      // A token from the future would outlive a ban issued before it; refuse it.
      if (iat * 1000 > nowMs + clockToleranceMs) throw new InvalidTokenError('iat is in the future');
      return { id, email, role, iat, exp };
    },
  };
}
