import type { RequestHandler } from 'express';
import type { BanChecker } from '../bans/ban-list.js';
import type { UserPayload } from '../tokens/user-payload.js';

/** Where `requireAuth` leaves the user it checked, for `signedInUser`; nothing else can set it. */
const CHECKED_USER = Symbol('ticketing.checkedUser');
import { HttpError, NotAuthenticatedError, UserBannedError } from './errors.js';
import { noteRouteScope } from './metrics.js';
import { requestLogger } from './request-log.js';

/**
 * Lets a request through only when `currentUser` found a valid token (else 401) whose user is not
 * banned (else 403 `User is banned`, and the session cookie is cleared) and whose sessions were not
 * revoked after it was issued (else 401 `Signed out everywhere; sign in again`, and the cookie is
 * cleared). Each refusal is an audit line on the request's logger. The ban list is required:
 * a service that forgot it would skip the one check that makes local verification safe, so
 * building the middleware without one throws at startup.
 *
 * @example
 * router.use('/api/orders', requireAuth({ bans: banSync.bans }));
 */
export function requireAuth(options: { bans: BanChecker }): RequestHandler {
  const bans = options?.bans;
  if (typeof bans?.isBanned !== 'function' || typeof bans.isRevoked !== 'function') {
    throw new TypeError('requireAuth: bans is required (a ban list with isBanned(userId, issuedAtMs) and isRevoked(userId, issuedAtMs) methods)');
  }
  return function requireSignedIn(req, res, next) {
    noteRouteScope(req, res);
    const user = req.currentUser;
    if (user === undefined) throw new NotAuthenticatedError();
    const issuedAtMs = user.iat * 1000;
    if (bans.isBanned(user.id, issuedAtMs)) {
      requestLogger(res)?.info({ audit: 'banned_user.refused', userId: user.id, issuedAt: new Date(issuedAtMs).toISOString() }, 'banned user refused');
      req.session = null;
      throw new UserBannedError();
    }
    if (bans.isRevoked(user.id, issuedAtMs)) {
      requestLogger(res)?.info({ audit: 'revoked_session.refused', userId: user.id, issuedAt: new Date(issuedAtMs).toISOString() }, 'token from before a sign-out everywhere refused');
      req.session = null;
      throw new HttpError('SESSION_REVOKED');
    }
    (req as { [CHECKED_USER]?: UserPayload })[CHECKED_USER] = user;
    next();
  };
}

/**
 * The user of a request that passed `requireAuth`: signed in and not banned. A route that forgot
 * `requireAuth` gets a 401 for every caller, never the claims of a banned user, since only
 * `requireAuth` marks a request as checked. Routers use it instead of `req.currentUser!`.
 *
 * @example
 * router.get('/api/orders', (req, res) => res.json(listOrders(signedInUser(req).id)));
 */
export function signedInUser(req: object): UserPayload {
  const user = (req as { [CHECKED_USER]?: UserPayload })[CHECKED_USER];
  if (user === undefined) throw new NotAuthenticatedError();
  return user;
}
