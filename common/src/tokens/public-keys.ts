import { createPublicKey, type KeyObject } from 'node:crypto';
import { isP256, publicJwkOf, tokenKeyId } from './key-id.js';
import { pemBlocks } from './pem.js';

/**
 * Turns the ES256 public keys every service verifies with (`JWT_PUBLIC_KEYS`: one or more PEM
 * `PUBLIC KEY` blocks, one after another) into `KeyObject`s, once, at startup. Several keys at once
 * are how keys rotate. A private key is a `TypeError`, not a key to take the public half of: a
 * service that holds one could mint tokens. So is a key on another curve, or text that is not PEM.
 *
 * @example
 * const verifier = createTokenVerifier({ publicKeys: createTokenPublicKeys(process.env.JWT_PUBLIC_KEYS!), maxLifetimeMs });
 */
export function createTokenPublicKeys(pems: string): KeyObject[] {
  const blocks = pemBlocks(pems);
  if (blocks.length === 0) throw new TypeError('must hold at least one PEM public key (-----BEGIN PUBLIC KEY-----)');
  const keys = new Map<string, KeyObject>();
  blocks.forEach((block, index) => {
    const which = blocks.length === 1 ? 'the key' : `key ${index + 1}`;
    if (block.label.includes('PRIVATE')) throw new TypeError(`${which} is a private key: give services the public key alone (only auth signs)`);
    if (block.label !== 'PUBLIC KEY') throw new TypeError(`${which} must be a PEM public key (-----BEGIN PUBLIC KEY-----), got -----BEGIN ${block.label}-----`);
    let key: KeyObject;
    try {
      key = createPublicKey(block.text);
    } catch {
      throw new TypeError(`${which} cannot be read as a public key`);
    }
    if (!isP256(key)) throw new TypeError(`${which} must be an EC P-256 key (ES256), got ${key.asymmetricKeyType}`);
    keys.set(tokenKeyId(key), key);
  });
  return [...keys.values()];
}

/** One public key as JWKS lists it. */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/**
 * The JSON Web Key Set of these public keys (RFC 7517), each with its `kid`: what auth serves at
 * `/.well-known/jwks.json` for services in other languages.
 *
 * @example
 * res.json(publicKeysJwks(config.tokenKeys.publicKeys));
 */
export function publicKeysJwks(publicKeys: readonly KeyObject[]): { keys: PublicJwk[] } {
  return {
    keys: publicKeys.map((key) => ({ ...publicJwkOf(key), kid: tokenKeyId(key), alg: 'ES256', use: 'sig' })),
  };
}
