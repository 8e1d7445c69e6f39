import { Router, type RequestHandler } from 'express';
import type { BanChecker } from '@ticketing/common/bans';
import { HttpError, UserBannedError, validateRequest } from '@ticketing/common/http';
import type { Database, Logger } from '@ticketing/common/runtime';
import type { TokenSigner } from '@ticketing/common/tokens';
import type { PasswordHasher } from '../password-hasher.js';
import { databaseNow, findUserByEmail, findUserById, insertUser, toPublicUser } from '../users.js';
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
}

/** Signup, signin, signout and currentuser: `/api/users/...`. */
export function usersRouter(deps: UsersRouterDeps): Router {
  const { db, hasher, signer } = deps;
  const router = Router();
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
    const inserted = await insertUser(db, { email, passwordHash: await inFlight.hold(req, hasher.hash(password)), role });
    if (inserted === null) throw new HttpError('EMAIL_IN_USE', { items: [{ message: 'Email in use', field: 'email' }] });
    // Dated by the database's clock, which dates bans, never by this replica's.
    req.session = { jwt: signer.sign(inserted.user, { issuedAtMs: inserted.insertedAt.getTime() }) };
    res.status(201).json(toPublicUser(inserted.user));
  });

  // The account limit comes after validation (it keys on the normalised email) and before the hash,
  // so a locked account costs no hash. A malformed body counts against its address only.
  const signinChecks = [...httpsOnly, inFlight.acquire, limits.signinFailuresPerAddress, validateRequest({ body: signinBody }), ...limits.signinFailuresPerAccount];
  router.post('/api/users/signin', ...signinChecks, async (req, res) => {
    const { email, password } = req.body;
    const user = await findUserByEmail(db, email);
    const valid = await inFlight.hold(req, user === null ? hasher.verifyNothing(password) : hasher.verify(password, user.passwordHash));
    if (user === null || !valid) throw new HttpError('INVALID_CREDENTIALS');
    // Read again after the slow hash, holding a share lock while the token is made: a ban waits for
    // it, and a ban committed meanwhile is seen. The token is dated by the database's clock under
    // that lock, the clock a ban reads after its own lock, so its bannedAt is not before this iat
    // even when the replicas' clocks disagree.
    const { current, jwt } = await db.transaction(async (tx) => {
      const fresh = await findUserById(tx, user.id, { lock: 'share' });
      if (fresh === null) throw new HttpError('INVALID_CREDENTIALS');
      if (fresh.bannedAt !== null) throw new UserBannedError();
      const issuedAt = await databaseNow(tx);
      return { current: fresh, jwt: signer.sign(fresh, { issuedAtMs: issuedAt.getTime() }) };
    });
    req.session = { jwt };
    res.json(toPublicUser(current));
  });

  router.post('/api/users/signout', (req, res) => {
    req.session = null;
    res.json({});
  });

  // Auth owns the users, so here (unlike in other services) a token whose user is gone or banned counts for nothing.
  router.get('/api/users/currentuser', async (req, res) => {
    const claims = req.currentUser;
    if (claims === undefined) {
      res.json({ currentUser: null });
      return;
    }
    const user = await findUserById(db, claims.id);
    if (user === null || user.bannedAt !== null || deps.bans.isBanned(claims.id, claims.iat * 1000)) {
      req.session = null;
      res.json({ currentUser: null });
      return;
    }
    res.json({ currentUser: { ...toPublicUser(user), iat: claims.iat, exp: claims.exp } });
  });

  return router;
}
