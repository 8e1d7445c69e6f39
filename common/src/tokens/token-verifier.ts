import { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { isP256, tokenKeyId } from './key-id.js';
import { ROLES, type Role, type UserPayload } from './user-payload.js';
import { TOKEN_ISSUER, type HmacAlgorithm } from './token-signer.js';
import { canonicalUserId } from './user-id.js';

/**
 * The keys a service verifies with: the shared secret (HS256, see `createTokenKey`), or auth's
 * public keys (ES256, see `createTokenPublicKeys`), each found by the `kid` a token names.
 */
export type VerificationKeys =
  | { readonly key: KeyObject; readonly publicKeys?: undefined }
  | { readonly publicKeys: readonly KeyObject[]; readonly key?: undefined };

interface VerifierSettings {
  /**
   * The longest lifetime (`exp - iat`) accepted, in milliseconds: this service's own
   * `ACCESS_TOKEN_TTL`. Its ban list keeps an entry for that long after a ban, so a token that
   * lives longer would outlive the entry; such a token is refused instead.
   */
  maxLifetimeMs: number;
  /** The only HMAC algorithms accepted with a secret `key` (default HS256); public keys accept ES256 alone. */
  algorithms?: readonly HmacAlgorithm[];
  issuer?: string;
  /** How far the clocks of auth and this service may disagree, in milliseconds. */
  clockToleranceMs?: number;
  /** The clock, in milliseconds since the epoch; tests freeze it. */
  now?: () => number;
}

export type TokenVerifierOptions = VerificationKeys & VerifierSettings;

/**
 * Why a token was refused, as a bounded set (a metric label). `lifetime`, `crit` and
 * `issued_in_future` mean the signer and this service disagree (configuration or clocks); the
 * others are what outsiders and expired sessions produce.
 */
export type TokenRefusal =
  | 'malformed' | 'signature' | 'algorithm' | 'issuer' | 'expired' | 'not_yet_valid'
  | 'claims' | 'issued_in_future' | 'lifetime' | 'crit' | 'kid';

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

/** How tokens are checked: the algorithms pinned, and the key for a token (or why there is none). */
interface KeyChoice {
  algorithms: jwt.Algorithm[];
  keyFor(token: string): KeyObject;
}

/** The `kid` in a compact JWT's header; `undefined` when it has none or the header is not JSON. */
function headerKid(token: string): unknown {
  const end = token.indexOf('.');
  try {
    const header: unknown = JSON.parse(Buffer.from(token.slice(0, end === -1 ? token.length : end), 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null ? (header as { kid?: unknown }).kid : undefined;
  } catch {
    return undefined;
  }
}

function keyChoice(options: TokenVerifierOptions): KeyChoice {
  if (options.key !== undefined) {
    if (options.publicKeys !== undefined) throw new TypeError('createTokenVerifier: give key (HS256) or publicKeys (ES256), not both');
    if (!(options.key instanceof KeyObject) || options.key.type !== 'secret') {
      throw new TypeError('createTokenVerifier: key must be a secret KeyObject (see createTokenKey); ES256 public keys go in publicKeys');
    }
    const algorithms = [...(options.algorithms ?? ['HS256'])];
    if (algorithms.length === 0) throw new TypeError('createTokenVerifier: algorithms must not be empty');
    const { key } = options;
    return { algorithms, keyFor: () => key };
  }
  const { publicKeys } = options;
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) {
    throw new TypeError('createTokenVerifier: key (a secret KeyObject, HS256) or publicKeys (EC P-256 public KeyObjects, ES256) is required');
  }
  if (options.algorithms !== undefined) throw new TypeError('createTokenVerifier: algorithms is for a secret key; public keys verify ES256 alone');
  const byKid = new Map<string, KeyObject>();
  for (const key of publicKeys as readonly unknown[]) {
    if (!(key instanceof KeyObject) || key.type !== 'public' || !isP256(key)) {
      throw new TypeError('createTokenVerifier: publicKeys must be EC P-256 public KeyObjects (see createTokenPublicKeys)');
    }
    byKid.set(tokenKeyId(key), key);
  }
  return {
    algorithms: ['ES256'],
    keyFor(token) {
      // Only a key this service holds, found by its id: never one the token brings (jwk, jku, x5u).
      const kid = headerKid(token);
      const key = typeof kid === 'string' ? byKid.get(kid) : undefined;
      if (key === undefined) throw new InvalidTokenError('kid', typeof kid === 'string' ? 'kid names no key this service holds' : 'no kid header');
      return key;
    },
  };
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
 * Verifies access tokens locally: pinned algorithms (HS256 with a shared secret, or ES256 with the
 * public key the token's `kid` names), required issuer and expiry, a bounded clock tolerance, a
 * bounded lifetime, no `crit` header (RFC 7515 §4.1.11: an extension this verifier does not
 * understand), and claims checked for shape.
 *
 * @example
 * const verifier = createTokenVerifier({ publicKeys: createTokenPublicKeys(pems), maxLifetimeMs: 15 * 60_000, clockToleranceMs: 30_000 });
 * const user = verifier.verify(token); // throws InvalidTokenError
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { algorithms, keyFor } = keyChoice(options);
  const clockToleranceMs = options.clockToleranceMs ?? 30_000;
  if (!Number.isFinite(clockToleranceMs) || clockToleranceMs < 0) {
    throw new TypeError('createTokenVerifier: clockToleranceMs must be a non-negative number');
  }
  if (!Number.isFinite(options.maxLifetimeMs) || options.maxLifetimeMs < 1000) {
    throw new TypeError('createTokenVerifier: maxLifetimeMs (the service\'s ACCESS_TOKEN_TTL) must be at least 1000');
  }
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
      const key = keyFor(token);
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
