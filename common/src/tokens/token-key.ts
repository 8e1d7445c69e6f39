import { createSecretKey, type KeyObject } from 'node:crypto';

/** The shortest `JWT_KEY` accepted, in bytes (the output size of HMAC-SHA-256). */
export const MIN_JWT_KEY_BYTES = 32;

/**
 * Turns the shared secret into the `KeyObject` that signing and verification take. jsonwebtoken
 * imports a string secret again on every call; with a `KeyObject` it verifies about 50 times
 * faster, so this is the only form the token functions accept.
 *
 * @example
 * const key = createTokenKey(config.jwtKey);
 */
export function createTokenKey(secret: string | Uint8Array): KeyObject {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (bytes.length < MIN_JWT_KEY_BYTES) {
    throw new TypeError(`JWT key must be at least ${MIN_JWT_KEY_BYTES} bytes, got ${bytes.length}`);
  }
  return createSecretKey(bytes);
}
