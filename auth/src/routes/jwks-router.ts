import { Router } from 'express';
import { NotFoundError } from '@ticketing/common/http';
import { publicKeysJwks, type VerificationKeys } from '@ticketing/common/tokens';

/** How long a JWKS answer may be cached: a key added for a rotation is listed everywhere within this. */
const JWKS_MAX_AGE_SECONDS = 300;

/**
 * `GET /.well-known/jwks.json`: the public keys tokens are verified with (`JWT_PUBLIC_KEYS`), each
 * with its `kid`, for services in other languages. The services of this project read the same keys
 * from their config and never fetch them, so none depends on auth to start. Under HS256 there are
 * no public keys, and the route says so with a 404.
 */
export function jwksRouter(deps: { tokenKeys: VerificationKeys }): Router {
  const router = Router();
  const { publicKeys } = deps.tokenKeys;
  const body = publicKeys === undefined ? undefined : JSON.stringify(publicKeysJwks(publicKeys));
  router.get('/.well-known/jwks.json', (_req, res) => {
    if (body === undefined) throw new NotFoundError('No public keys: tokens are signed with HS256 (JWT_ALGORITHM)');
    res.set('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`).type('application/json').send(body);
  });
  return router;
}
