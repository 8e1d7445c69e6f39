// Access tokens: the key, the signer (auth only), the verifier (every service), the claims and the
// canonical user id. Loads jsonwebtoken and nothing of this package's database or NATS code.
export { createTokenKey, MIN_JWT_KEY_BYTES } from './token-key.js';
export { createTokenSigner, TOKEN_ISSUER, type HmacAlgorithm, type TokenSigner, type TokenSignerOptions } from './token-signer.js';
export { createTokenVerifier, InvalidTokenError, type TokenRefusal, type TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';
export { ROLES, type Role, type UserPayload } from './user-payload.js';
export { canonicalUserId } from './user-id.js';
