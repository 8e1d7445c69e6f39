import type { Express } from 'express';
import {
  createMetrics, createServiceApp, createTokenKey, createTokenSigner, createTokenVerifier,
  type Database, type Logger,
} from '@ticketing/common';
import type { AuthConfig } from './config.js';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.js';
import { usersRouter } from './routes/users-router.js';

export interface AuthDeps {
  config: AuthConfig;
  db: Database;
  logger: Logger;
  hasher?: PasswordHasher;
}

/** Builds the auth service's express app from what it is given; it opens nothing itself. */
export function createApp(deps: AuthDeps): Express {
  const { config, db, logger } = deps;
  const key = createTokenKey(config.jwtKey);
  const signer = createTokenSigner({ key, ttlMs: config.accessTokenTtlMs });
  const verifier = createTokenVerifier({ key, clockToleranceMs: config.clockSkewMs });
  return createServiceApp({
    production: config.production,
    logger,
    metrics: createMetrics({ service: 'auth' }),
    verifier,
    readiness: { database: async () => void (await db.query('SELECT 1')) },
    routes: usersRouter({
      db,
      hasher: deps.hasher ?? createPasswordHasher(),
      signer,
      adminEmails: config.adminEmails,
      rateLimitPerMinute: config.authRateLimitPerMinute,
    }),
  });
}
