import type { KeyObject } from 'node:crypto';
import { createTokenKey, MIN_JWT_KEY_BYTES } from '../tokens/token-key.js';
import { createTokenPublicKeys } from '../tokens/public-keys.js';
import { createTokenSigningKey } from '../tokens/signing-key.js';
import { tokenKeyId } from '../tokens/key-id.js';
import type { VerificationKeys } from '../tokens/token-verifier.js';
import { ConfigError, configReader, type Env } from './config-reader.js';

/** The token algorithms a deployment can choose with `JWT_ALGORITHM`. */
export const JWT_ALGORITHMS = ['HS256', 'ES256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** A key parser's `TypeError` as the one line that names the variable. */
function parsed<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof TypeError) throw new ConfigError(variable, err.message);
    throw err;
  }
}

/**
 * `JWT_ALGORITHM` and the keys every service verifies with: `JWT_KEY` for HS256 (the default), or
 * `JWT_PUBLIC_KEYS` for ES256. A key the chosen algorithm does not use is refused rather than
 * ignored: `JWT_PUBLIC_KEYS` under HS256 means the operator meant ES256, and `JWT_KEY` under
 * ES256 is a secret that can mint tokens, left where the switch to ES256 was meant to remove it.
 * `JWT_PRIVATE_KEY` is refused unless `signs` (auth): a service holding it could mint tokens.
 */
export function readVerificationKeys(env: Env, options: { signs: boolean }): { jwtAlgorithm: JwtAlgorithm; tokenKeys: VerificationKeys } {
  const read = configReader(env);
  const jwtAlgorithm = read.oneOf('JWT_ALGORITHM', JWT_ALGORITHMS, 'HS256');
  if (!options.signs && read.optional('JWT_PRIVATE_KEY') !== undefined) {
    throw new ConfigError('JWT_PRIVATE_KEY', 'is set, but only auth signs tokens: give this service JWT_PUBLIC_KEYS alone');
  }
  if (jwtAlgorithm === 'HS256') {
    for (const variable of ['JWT_PUBLIC_KEYS', 'JWT_PRIVATE_KEY']) {
      if (read.optional(variable) !== undefined) throw new ConfigError(variable, 'is set, but JWT_ALGORITHM is HS256 (the default): set JWT_ALGORITHM=ES256 to use it');
    }
    const secret = read.secret('JWT_KEY', { minBytes: MIN_JWT_KEY_BYTES });
    return { jwtAlgorithm, tokenKeys: { key: createTokenKey(secret) } };
  }
  if (read.optional('JWT_KEY') !== undefined) {
    throw new ConfigError('JWT_KEY', 'is set, but JWT_ALGORITHM is ES256: remove the shared secret, which could still mint tokens');
  }
  const pems = read.string('JWT_PUBLIC_KEYS');
  return { jwtAlgorithm, tokenKeys: { publicKeys: Object.freeze(parsed('JWT_PUBLIC_KEYS', () => createTokenPublicKeys(pems))) } };
}

/**
 * The key auth signs with: the `JWT_KEY` secret under HS256, or `JWT_PRIVATE_KEY` under ES256,
 * whose public half must be among `JWT_PUBLIC_KEYS` (or auth would refuse its own tokens, and so
 * would every service given the same keys).
 */
export function readSigningKey(env: Env, keys: { jwtAlgorithm: JwtAlgorithm; tokenKeys: VerificationKeys }): KeyObject {
  const { tokenKeys } = keys;
  if (tokenKeys.key !== undefined) return tokenKeys.key;
  const pem = configReader(env).string('JWT_PRIVATE_KEY');
  const key = parsed('JWT_PRIVATE_KEY', () => createTokenSigningKey(pem));
  const kid = tokenKeyId(key);
  if (!tokenKeys.publicKeys.some((publicKey) => tokenKeyId(publicKey) === kid)) {
    throw new ConfigError('JWT_PUBLIC_KEYS', `must include the public key of JWT_PRIVATE_KEY (kid ${kid}): services given these keys would refuse every token auth signs`);
  }
  return key;
}
