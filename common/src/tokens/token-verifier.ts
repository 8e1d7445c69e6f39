import { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ROLES, type Role, type UserPayload } from './user-payload.js';
import { TOKEN_ISSUER, type HmacAlgorithm } from './token-signer.js';
import { canonicalUserId } from './user-id.js';

export interface TokenVerifierOptions {
  key: KeyObject;
  /**
   * The longest lifetime (`exp - iat`) accepted, in milliseconds: this service's own
   * `ACCESS_TOKEN_TTL`. Its ban list keeps an entry for that long after a ban, so a token that
   * lives longer would outlive the entry; such a token is refused instead.
   */
  maxLifetimeMs: number;
  /** The only algorithms accepted; anything else, `none` included, is refused. */
  algorithms?: readonly HmacAlgorithm[];
  issuer?: string;
  /** How far the clocks of auth and this service may disagree, in milliseconds. */
  clockToleranceMs?: number;
  /** The clock, in milliseconds since the epoch; tests freeze it. */
  now?: () => number;
}

/**
 * Why a token was refused, as a bounded set (a metric label). `lifetime`, `crit` and
 * `issued_in_future` mean the signer and this service disagree (configuration or clocks); the
 * others are what outsiders and expired sessions produce.
 */
export type TokenRefusal =
  | 'malformed' | 'signature' | 'algorithm' | 'issuer' | 'expired' | 'not_yet_valid'
  | 'claims' | 'issued_in_future' | 'lifetime' | 'crit';

/** Why a token was refused; `reason` and `message` are safe to log, the token itself is not. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  constructor(
    readonly reason: TokenRefusal,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid token: ${detail}`, options);
  }
}

export interface TokenVerifier {
  /** Returns the verified claims (the user id in its canonical form), or throws {@link InvalidTokenError}. */
  verify(token: string): UserPayload;
}

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

function refusalOf(err: unknown): TokenRefusal {
  if (err instanceof jwt.TokenExpiredError) return 'expired';
  if (err instanceof jwt.NotBeforeError) return 'not_yet_valid';
  const message = err instanceof Error ? err.message : '';
  if (/signature/.test(message)) return 'signature';
  if (/algorithm/.test(message)) return 'algorithm';
  if (/issuer/.test(message)) return 'issuer';
  return 'malformed';
}

/**
 * Verifies access tokens locally: pinned algorithms, required issuer and expiry, a bounded clock
 * tolerance, a bounded lifetime, no `crit` header (RFC 7515 §4.1.11: an extension this verifier
 * does not understand), and claims checked for shape.
 *
 * @example
 * const verifier = createTokenVerifier({ key: createTokenKey(config.jwtKey), maxLifetimeMs: 15 * 60_000, clockToleranceMs: 30_000 });
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
  if (!Number.isFinite(options.maxLifetimeMs) || options.maxLifetimeMs < 1000) {
    throw new TypeError('createTokenVerifier: maxLifetimeMs (the service\'s ACCESS_TOKEN_TTL) must be at least 1000');
  }
  const { key } = options;
  const issuer = options.issuer ?? TOKEN_ISSUER;
  const now = options.now ?? Date.now;
  const clockTolerance = Math.floor(clockToleranceMs / 1000);
  // No tolerance here: exp and iat come from the same clock, and a token living even a second
  // longer than the ban list's window could be presented after its ban entry expired.
  // Whole seconds, rounded down: rounding up would let a 1.5 s token live 2 s, past its entry.
  const maxLifetimeSeconds = Math.floor(options.maxLifetimeMs / 1000);

  return {
    verify(token) {
      const nowMs = now();
      let decoded: jwt.Jwt;
      try {
        decoded = jwt.verify(token, key, {
          algorithms,
          issuer,
          clockTolerance,
          clockTimestamp: Math.floor(nowMs / 1000),
          complete: true,
        });
      } catch (err) {
        throw new InvalidTokenError(refusalOf(err), (err as Error).message, { cause: err });
      }
      if (Object.hasOwn(decoded.header, 'crit')) throw new InvalidTokenError('crit', 'crit header present');
      const claims = decoded.payload;
      if (typeof claims !== 'object' || claims === null) throw new InvalidTokenError('claims', 'payload is not an object');
      const { email, role, iat, exp } = claims as Record<string, unknown>;
      const id = canonicalUserId((claims as Record<string, unknown>).id);
      if (id === undefined) throw new InvalidTokenError('claims', 'id claim is not a UUID');
      if (typeof email !== 'string' || email.length === 0) throw new InvalidTokenError('claims', 'email claim missing');
      if (!isRole(role)) throw new InvalidTokenError('claims', 'role claim invalid');
      if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new InvalidTokenError('claims', 'exp claim missing');
      if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new InvalidTokenError('claims', 'iat claim missing');
      // A token from the future would outlive a ban issued before it; refuse it.
      if (iat * 1000 > nowMs + clockToleranceMs) throw new InvalidTokenError('issued_in_future', 'iat is in the future');
      if (exp - iat > maxLifetimeSeconds) {
        throw new InvalidTokenError('lifetime', `lifetime ${exp - iat}s exceeds this service's ACCESS_TOKEN_TTL of ${maxLifetimeSeconds}s`);
      }
      return { id, email, role, iat, exp };
    },
  };
}
