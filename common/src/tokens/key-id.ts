import { createHash, createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';

/** Whether `key` is an elliptic-curve key on P-256, the one curve ES256 uses. */
export function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** The public half of an EC P-256 key as a JWK: only the members RFC 7638 orders for a thumbprint. */
export function publicJwkOf(key: KeyObject): { crv: 'P-256'; kty: 'EC'; x: string; y: string } {
  const { x, y } = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' }) as JsonWebKey;
  if (!isP256(key) || typeof x !== 'string' || typeof y !== 'string') throw new TypeError('tokenKeyId: key must be an EC P-256 key');
  return { crv: 'P-256', kty: 'EC', x, y };
}

/**
 * The key id (`kid`) of an ES256 key: its RFC 7638 JWK thumbprint (SHA-256, base64url) of the
 * public half. Auth signs with it and every verifier works it out from the public keys it holds,
 * so a `kid` can never be configured to name the wrong key. A private key gives its public half's id.
 *
 * @example
 * tokenKeyId(createTokenSigningKey(pem)); // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export function tokenKeyId(key: KeyObject): string {
  if (!(key instanceof KeyObject)) throw new TypeError('tokenKeyId: key must be a KeyObject');
  // Members in lexicographic order, no whitespace: the thumbprint's canonical form.
  const { crv, kty, x, y } = publicJwkOf(key);
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}
