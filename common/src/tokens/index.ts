// Access tokens: the keys, the signer (auth only), the verifier (every service) and its cache, the
// claims and the canonical user id. Loads jsonwebtoken and lru-cache, and nothing of this
// package's database or NATS code.
export { createTokenKey, MIN_JWT_KEY_BYTES } from './token-key.js';
export { createTokenSigningKey } from './signing-key.js';
export { createTokenPublicKeys, publicKeysJwks, type PublicJwk } from './public-keys.js';
export { tokenKeyId } from './key-id.js';
export { createTokenSigner, TOKEN_ISSUER, type HmacAlgorithm, type TokenSigner, type TokenSignerOptions } from './token-signer.js';
export {
  createTokenVerifier, InvalidTokenError, type TokenRefusal, type TokenVerifier, type TokenVerifierOptions, type VerificationKeys,
} from './token-verifier.js';
export { cacheVerifiedTokens, MAX_TOKEN_CACHE_ENTRIES, type VerifiedTokenCacheOptions } from './verified-token-cache.js';
export { ROLES, type Role, type UserPayload } from './user-payload.js';
export { canonicalUserId } from './user-id.js';
