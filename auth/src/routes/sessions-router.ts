import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { HttpError, requireAuth, signedInUser, UserBannedError, validated, validateRequest } from '@ticketing/common/http';
import { audit } from './audit.js';
import { endSessionOf, isRefreshTokenShaped, refreshTokenOwner, revokeAccessTokens, revokeAllSessions, startSession } from '../sessions.js';
import { findUserById, isSessionRevoked, setPasswordHash } from '../users.js';
import type { InFlightPerAddress } from './in-flight-per-address.js';
import type { RateLimits } from './rate-limits.js';
import { refreshSession, reportTheft } from './refresh-session.js';
import { signupBody } from './schemas.js';
import { clearSessionCookies, deliverTokens, refreshCookieOf, signAccessToken, wantsTokensInBody } from './session-delivery.js';
import type { UsersRouterDeps } from './users-router.js';

/** An API client's refresh token, in the body; its form is checked with the token itself (401). */
const refreshBody = z.object({ refreshToken: z.string({ error: 'refreshToken is required' }).max(1024, { error: 'refreshToken is not a refresh token' }) });
/** Sign-out takes a refresh token in the body too, but needs none. */
const signoutBody = z.object({ refreshToken: z.string({ error: 'refreshToken must be a string' }).max(1024).optional() }).optional();
const passwordBody = z.object({
  currentPassword: z
    .string({ error: 'You must supply your current password' })
    .min(1, { error: 'You must supply your current password' })
    .max(1024, { error: 'Invalid credentials' }),
  newPassword: signupBody.shape.password,
});

export interface SessionsRouterDeps extends UsersRouterDeps {
  httpsOnly: RequestHandler[];
  inFlight: InFlightPerAddress;
  limits: RateLimits;
}

/**
 * `POST /api/users/refresh` (rotate the refresh token, new access token), `/signout` (end this
 * session), `/signout-all` (end every session of the user) and `/password` (change it, ending every
 * other session). Browsers send the refresh token as the `refresh` cookie; an API client sends
 * `X-Token-Delivery: body` and the token in the body, and gets its tokens in the body.
 */
export function sessionsRouter(deps: SessionsRouterDeps): Router {
  const { db, hasher, httpsOnly, inFlight } = deps;
  const delivery = { production: deps.production };
  const router = Router();

  router.post('/api/users/refresh', ...httpsOnly, async (req, res) => {
    let token: unknown = refreshCookieOf(req, delivery);
    if (wantsTokensInBody(req)) token = validated(refreshBody, req.body).refreshToken;
    const outcome = await refreshSession(deps, token);
    if (outcome.kind !== 'refreshed') {
      clearSessionCookies(req, res, delivery);
      throw outcome.kind === 'banned' ? new UserBannedError() : new HttpError('INVALID_REFRESH_TOKEN');
    }
    deliverTokens(req, res, { ...delivery, ...outcome });
  });

  router.post('/api/users/signout', async (req, res) => {
    const token = wantsTokensInBody(req) ? validated(signoutBody, req.body)?.refreshToken : refreshCookieOf(req, delivery);
    const userId = isRefreshTokenShaped(token) ? await endSession(token) : null;
    if (userId !== null) audit(res, deps.logger, 'session.signed_out', { userId }, 'signed out');
    clearSessionCookies(req, res, delivery);
    res.json({});
  });

  /** Ends a refresh token's session; one replaced by a token that was used since ends as stolen, with the user's access tokens. */
  async function endSession(token: string): Promise<string | null> {
    const owner = await refreshTokenOwner(db, token);
    if (owner === null) return null;
    const theft = await db.transaction(async (tx) => {
      await findUserById(tx, owner, { lock: 'update' });
      const outcome = await endSessionOf(tx, token, deps.sessions);
      return outcome.kind === 'reused' ? revokeAccessTokens(tx, owner) : undefined;
    });
    if (theft !== undefined) reportTheft(deps, { userId: owner, eventId: theft.eventId }, 'sign-out with a refresh token whose replacement was used');
    return owner;
  }

  // Signed in with an access token that is still good: the user, not the session, is checked.
  const signedIn = [requireAuth({ bans: deps.bans }), async function checkedInDatabase(req, _res, next) {
    const user = await findUserById(db, signedInUser(req).id);
    if (user === null || isSessionRevoked(user, signedInUser(req).iat)) throw new HttpError('SESSION_REVOKED');
    if (user.bannedAt !== null) throw new UserBannedError();
    next();
  }] satisfies RequestHandler[];

  router.post('/api/users/signout-all', ...signedIn, async (req, res) => {
    const { id } = signedInUser(req);
    const { eventId } = await db.transaction(async (tx) => {
      await findUserById(tx, id, { lock: 'update' });
      return revokeAllSessions(tx, id, 'signed out everywhere');
    });
    deps.onEventCommitted();
    audit(res, deps.logger, 'sessions.revoked', { userId: id, eventId, why: 'signed out everywhere' }, 'user signed out everywhere');
    clearSessionCookies(req, res, delivery);
    res.json({});
  });

  // Costs two password hashes, so it takes the sign-in limits: a wrong current password counts as a failed sign-in.
  router.post('/api/users/password', ...httpsOnly, ...signedIn, inFlight.acquire, deps.limits.signinFailuresPerAddress,
    validateRequest({ body: passwordBody }), async (req, res) => {
      const { currentPassword, newPassword } = req.body;
      const { id } = signedInUser(req);
      const stored = await findUserById(db, id);
      if (stored === null || !(await inFlight.hold(req, hasher.verify(currentPassword, stored.passwordHash)))) {
        audit(res, deps.logger, 'password.change_failed', { userId: id }, 'a password change gave a wrong current password');
        throw new HttpError('INVALID_CREDENTIALS', { items: [{ message: 'Invalid credentials', field: 'currentPassword' }] });
      }
      const passwordHash = await inFlight.hold(req, hasher.hash(newPassword));
      // Every other session ends, with its access tokens; this client gets a new session.
      const changed = await db.transaction(async (tx) => {
        const user = await findUserById(tx, id, { lock: 'update' });
        if (user === null) throw new HttpError('SESSION_REVOKED');
        if (user.bannedAt !== null) throw new UserBannedError();
        // Another change got in since the current password was checked: it was checked against a password that is gone.
        if (user.passwordHash !== stored.passwordHash) {
          throw new HttpError('INVALID_CREDENTIALS', { items: [{ message: 'Invalid credentials', field: 'currentPassword' }] });
        }
        await setPasswordHash(tx, id, passwordHash);
        const revocation = await revokeAllSessions(tx, id, 'password changed');
        const current = { ...user, passwordHash, sessionsRevokedAt: revocation.notBefore };
        const issued = { user: current, jwt: await signAccessToken(tx, deps.signer, current), refresh: await startSession(tx, id, deps.sessions) };
        return { ...issued, eventId: revocation.eventId };
      });
      deps.onEventCommitted();
      audit(res, deps.logger, 'password.changed', { userId: id, eventId: changed.eventId }, 'user changed their password; every other session ended');
      deliverTokens(req, res, { ...delivery, ...changed });
    });

  return router;
}
