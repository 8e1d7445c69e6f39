import { createPrivateKey, type KeyObject } from 'node:crypto';
import { isP256 } from './key-id.js';
import { pemBlocks } from './pem.js';

/**
 * Turns auth's ES256 private key (`JWT_PRIVATE_KEY`, an unencrypted PEM: PKCS #8 `PRIVATE KEY` or
 * SEC 1 `EC PRIVATE KEY`, on the P-256 curve) into the `KeyObject` the signer takes. Anything else
 * is a `TypeError` saying what it got, so a wrong key stops auth at startup rather than failing
 * every sign-in. Literal `\n` sequences (an env file's way of writing a PEM) count as line breaks.
 *
 * @example
 * const signer = createTokenSigner({ key: createTokenSigningKey(process.env.JWT_PRIVATE_KEY!), ttlMs });
 */
export function createTokenSigningKey(pem: string): KeyObject {
  // `openssl ecparam -genkey` writes the curve's name in a block of its own first; the key names it too.
  const blocks = pemBlocks(pem).filter((block) => block.label !== 'EC PARAMETERS');
  if (blocks.length !== 1) throw new TypeError(`must hold one PEM private key, got ${blocks.length} PEM blocks`);
  const [block] = blocks as [{ label: string; text: string }];
  if (block.label !== 'PRIVATE KEY' && block.label !== 'EC PRIVATE KEY') {
    throw new TypeError(`must be a PEM private key (-----BEGIN PRIVATE KEY-----), got -----BEGIN ${block.label}-----`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(block.text);
  } catch {
    throw new TypeError('must be an unencrypted PEM private key that can be read');
  }
  if (!isP256(key)) {
    throw new TypeError(`must be an EC P-256 key (ES256), got ${key.asymmetricKeyType}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`);
  }
  return key;
}
