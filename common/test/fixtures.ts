import express, { type RequestHandler } from 'express';
import cookieSession from 'cookie-session';
import jwt from 'jsonwebtoken';
import {
  createTokenKey,
  createTokenSigner,
  createTokenVerifier,
  currentUser,
  errorHandler,
  jsonBody,
  type Role,
} from '@ticketing/common';
import { capturingLogger } from '@ticketing/testing';

/** A fixed instant (2030-01-01T00:00:00Z) so that no test depends on the real clock. */
export const T0 = Date.UTC(2030, 0, 1);
export const T0_SECONDS = T0 / 1000;

export const SECRET = 'k'.repeat(32);
export const KEY = createTokenKey(SECRET);
export const OTHER_KEY = createTokenKey('o'.repeat(32));

export const ALICE = { id: '11111111-1111-4111-8111-111111111111', email: 'alice@example.com', role: 'user' as Role };
export const ADMIN = { id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', email: 'admin@example.com', role: 'admin' as Role };

/** Signs with the shared key at a frozen instant (ms since the epoch), 15 minutes of lifetime. */
export function signAt(nowMs: number, user: { id: string; email: string; role: Role } = ALICE, ttlMs = 15 * 60_000): string {
  return createTokenSigner({ key: KEY, ttlMs, now: () => nowMs }).sign(user);
}

/** A verifier of the shared key whose clock stands still at `nowMs`. */
export function verifierAt(nowMs: number, clockToleranceMs = 30_000) {
  return createTokenVerifier({ key: KEY, maxLifetimeMs: 15 * 60_000, clockToleranceMs, now: () => nowMs });
}

/** A token with any claims, signed by jsonwebtoken directly with the shared key. */
export function rawToken(claims: Record<string, unknown>, options: jwt.SignOptions = {}): string {
  return jwt.sign(claims, KEY, { algorithm: 'HS256', ...options });
}

export function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/**
 * The smallest app that exercises the middlewares as a service mounts them: JSON bodies, the
 * session cookie, `currentUser`, the route under test, and the error handler.
 */
export function middlewareApp(route: (app: express.Express) => void, options: { nowMs?: number; limit?: string } = {}) {
  const { logger, lines } = capturingLogger();
  const verifier = verifierAt(options.nowMs ?? T0 + 1000);
  const app = express();
  app.use(jsonBody({ limit: options.limit ?? '16kb' }));
  app.use(cookieSession({ name: 'session', signed: false }));
  app.use(currentUser({ verifier, logger }));
  route(app);
  app.use(errorHandler({ logger }));
  return { app, lines };
}

/** A route handler that answers with what `currentUser` found. */
export const whoAmI: RequestHandler = (req, res) => {
  res.json({ currentUser: req.currentUser ?? null });
};
