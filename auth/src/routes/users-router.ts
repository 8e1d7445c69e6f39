import { Router, type RequestHandler } from 'express';
import type { BanChecker } from '@ticketing/common/bans';
import { HttpError, UserBannedError, validateRequest } from '@ticketing/common/http';
import type { Database, Logger } from '@ticketing/common/runtime';
import type { TokenSigner } from '@ticketing/common/tokens';
import type { PasswordHasher } from '../password-hasher.js';
import { startSession, type SessionSettings } from '../sessions.js';
import { findUserByEmail, findUserById, insertUser, isSessionRevoked, toPublicUser } from '../users.js';
import { audit } from './audit.js';
import { refreshSession } from './refresh-session.js';
import { clearSessionCookies, deliverTokens, refreshCookieOf, setSessionCookies, signAccessToken, timesOf, wantsTokensInBody } from './session-delivery.js';
import { sessionsRouter } from './sessions-router.js';
import { rateLimits } from './rate-limits.js';
import { inFlightPerAddress } from './in-flight-per-address.js';
import { requireHttps } from './require-https.js';
import { signinBody, signupBody } from './schemas.js';

export interface UsersRouterDeps {
  db: Database;
  hasher: PasswordHasher;
  signer: TokenSigner;
  bans: BanChecker;
  adminEmails: readonly string[];
  /** Signups, and failed sign-ins, allowed per client address per minute. */
  addressRateLimitPerMinute: number;
  /** Failed sign-ins allowed per account (the normalised email) from one address, per minute. */
  accountRateLimitPerMinute: number;
  /** Failed sign-ins per account from all addresses together, per minute. */
  accountGlobalRateLimitPerMinute: number;
  /** Signups and sign-ins that one client address may have in flight at once; past that, 429 at once. */
  inFlightPerAddress: number;
  logger: Logger;
  /** Session cookies are `Secure`, so signup and signin refuse plain HTTP (403 `HTTPS_REQUIRED`). */
  production: boolean;
  /** Refresh tokens' lifetimes and the clock that judges them. */
  sessions: SessionSettings;
  /** Called after a transaction queued an event (a revocation of sessions), to publish it without waiting. */
  onEventCommitted: () => void;
}

/**
 * Signup, signin and currentuser (with its silent refresh), and the session routes (refresh,
 * signout, signout-all, password): `/api/users/...`.
 */
export function usersRouter(deps: UsersRouterDeps): Router {
  const { db, hasher, signer } = deps;
  const delivery = { production: deps.production };
  const router = Router();
  // Answers here carry tokens, or say who is signed in: no cache may keep them (RFC 6749 §5.1).
  router.use('/api/users', (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  // First, so a refused request costs nothing: no hash, no user row, no rate-limit count.
  const httpsOnly: RequestHandler[] = deps.production ? [requireHttps({ logger: deps.logger })] : [];
  // Next, so a request refused for its address's requests in flight is not counted as an attempt.
  const inFlight = inFlightPerAddress({ maxPerAddress: deps.inFlightPerAddress });
  const limits = rateLimits({
    perAddressPerMinute: deps.addressRateLimitPerMinute,
    perAccountPerAddressPerMinute: deps.accountRateLimitPerMinute,
    perAccountAllAddressesPerMinute: deps.accountGlobalRateLimitPerMinute,
    logger: deps.logger,
  });

  router.post('/api/users/signup', ...httpsOnly, inFlight.acquire, limits.signupPerAddress, validateRequest({ body: signupBody }), async (req, res) => {
    const { email, password } = req.body;
    const role = deps.adminEmails.includes(email) ? 'admin' : 'user';
    const passwordHash = await inFlight.hold(req, hasher.hash(password));
    const created = await db.transaction(async (tx) => {
      const inserted = await insertUser(tx, { email, passwordHash, role });
      if (inserted === null) return null;
      // Dated by the database's clock, which dates bans, never by this replica's.
      const jwt = signer.sign(inserted.user, { issuedAtMs: inserted.insertedAt.getTime() });
      return { user: inserted.user, jwt, refresh: await startSession(tx, inserted.user.id, deps.sessions) };
    });
    if (created === null) throw new HttpError('EMAIL_IN_USE', { items: [{ message: 'Email in use', field: 'email' }] });
    audit(res, deps.logger, 'user.signed_up', { userId: created.user.id, role }, role === 'admin' ? 'an admin signed up (ADMIN_EMAILS)' : 'a user signed up');
    deliverTokens(req, res, { ...delivery, ...created, status: 201 });
  });

  // The account limit comes after validation (it keys on the normalised email) and before the hash,
  // so a locked account costs no hash. A malformed body counts against its address only.
  const signinChecks = [...httpsOnly, inFlight.acquire, limits.signinFailuresPerAddress, validateRequest({ body: signinBody }), ...limits.signinFailuresPerAccount];
  router.post('/api/users/signin', ...signinChecks, async (req, res) => {
    const { email, password } = req.body;
    const user = await findUserByEmail(db, email);
    const valid = await inFlight.hold(req, user === null ? hasher.verifyNothing(password) : hasher.verify(password, user.passwordHash));
    if (user === null || !valid) {
      // The id of an account that exists; never the email typed, which may be a password typed in the wrong box.
      audit(res, deps.logger, 'signin.failed', { userId: user?.id ?? null }, 'sign-in failed');
      throw new HttpError('INVALID_CREDENTIALS');
    }
    // Read again after the slow hash, holding a share lock while the token is made: a ban waits for
    // it, and a ban committed meanwhile is seen. The token is dated by the database's clock under
    // that lock, the clock a ban reads after its own lock, so its bannedAt is not before this iat
    // even when the replicas' clocks disagree.
    const signedIn = await db.transaction(async (tx) => {
      const fresh = await findUserById(tx, user.id, { lock: 'share' });
      if (fresh === null) throw new HttpError('INVALID_CREDENTIALS');
      if (fresh.bannedAt !== null) {
        audit(res, deps.logger, 'signin.banned', { userId: fresh.id }, 'a banned user was refused sign-in');
        throw new UserBannedError();
      }
      return { user: fresh, jwt: await signAccessToken(tx, signer, fresh), refresh: await startSession(tx, fresh.id, deps.sessions) };
    });
    audit(res, deps.logger, 'user.signed_in', { userId: signedIn.user.id }, 'signed in');
    deliverTokens(req, res, { ...delivery, ...signedIn });
  });

  router.use(sessionsRouter({ ...deps, httpsOnly, inFlight, limits }));

  // Auth owns the users, so here (unlike in other services) a token whose user is gone, banned or
  // signed out everywhere counts for nothing. A browser whose access token no longer counts (expired,
  // say) but whose refresh token does is refreshed on the spot, so that a server-rendered page's
  // first request never shows a signed-in user as signed out.
  router.get('/api/users/currentuser', async (req, res) => {
    const claims = req.currentUser;
    const user = claims === undefined ? null : await findUserById(db, claims.id);
    const valid = claims !== undefined && user !== null && user.bannedAt === null && !isSessionRevoked(user, claims.iat)
      && !deps.bans.isBanned(claims.id, claims.iat * 1000) && !deps.bans.isRevoked(claims.id, claims.iat * 1000);
    if (valid) {
      res.json({ currentUser: { ...toPublicUser(user), iat: claims.iat, exp: claims.exp } });
      return;
    }
    const refreshToken = refreshCookieOf(req, delivery);
    // A secure cookie cannot be set over plain HTTP in production; API clients refresh explicitly;
    // and a GET another site made the browser send (a link, a redirect) changes nothing: it would
    // spend the refresh token on an answer the page cannot read, and the browser might never get.
    const crossSite = req.get('sec-fetch-site')?.trim().toLowerCase() === 'cross-site';
    const canRefresh = refreshToken !== undefined && !wantsTokensInBody(req) && (req.secure || !deps.production) && !crossSite;
    const outcome = canRefresh ? await refreshSession(deps, refreshToken) : { kind: 'invalid' as const };
    if (outcome.kind !== 'refreshed') {
      // Nor may another site sign the browser out by sending it here.
      if ((claims !== undefined || refreshToken !== undefined) && !crossSite) clearSessionCookies(req, res, delivery);
      // Said only to the holder of the banned user's token or refresh token, which sign-in would tell them too.
      const banned = outcome.kind === 'banned' || (claims !== undefined && user !== null && user.bannedAt !== null);
      res.json(banned ? { currentUser: null, banned: true } : { currentUser: null });
      return;
    }
    setSessionCookies(req, res, { ...delivery, jwt: outcome.jwt, refresh: outcome.refresh });
    res.json({ currentUser: { ...toPublicUser(outcome.user), ...timesOf(outcome.jwt) } });
  });

  return router;
}
