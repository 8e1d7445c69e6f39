import type { Express } from 'express';
import { Router } from 'express';
import { createServiceApp } from '@ticketing/common/http';
import { createServiceTokenVerifier, serviceReadiness, type ServiceDeps } from '@ticketing/common/runtime';
import { createTokenSigner } from '@ticketing/common/tokens';
import type { AuthConfig } from './config.js';
import type { OutboxRelay } from './outbox.js';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.js';
import { adminRouter } from './routes/admin-router.js';
import { jwksRouter } from './routes/jwks-router.js';
import { usersRouter } from './routes/users-router.js';

export interface AuthDeps extends Pick<ServiceDeps<AuthConfig>, 'config' | 'db' | 'logger' | 'metrics' | 'nats' | 'banSync'> {
  relay: Pick<OutboxRelay, 'kick'>;
  hasher?: PasswordHasher;
  /** A clock for refresh tokens' lifetimes, in ms since the epoch, for tests that freeze it; unset: the database's. */
  now?: () => number;
}

/** Builds the auth service's express app from what it is given; it opens nothing itself. */
export function createApp(deps: AuthDeps): Express {
  const { config, db, logger, metrics, banSync, relay } = deps;
  const signer = createTokenSigner({ key: config.signingKey, ttlMs: config.accessTokenTtlMs });
  const verifier = createServiceTokenVerifier(config);
  const routes = Router();
  routes.use(jwksRouter({ tokenKeys: config.tokenKeys }));
  const onEventCommitted = () => relay.kick();
  routes.use(usersRouter({
    db,
    hasher: deps.hasher ?? createPasswordHasher(),
    signer,
    bans: banSync.bans,
    adminEmails: config.adminEmails,
    addressRateLimitPerMinute: config.authRateLimitPerMinute,
    accountRateLimitPerMinute: config.authAccountRateLimitPerMinute,
    accountGlobalRateLimitPerMinute: config.authAccountGlobalRateLimitPerMinute,
    inFlightPerAddress: config.authInFlightPerAddress,
    logger,
    production: config.production,
    sessions: {
      absoluteTtlMs: config.refreshTokenTtlMs,
      idleTtlMs: config.refreshTokenIdleTtlMs,
      now: deps.now,
    },
    onEventCommitted,
  }));
  routes.use(adminRouter({ db, bans: banSync.bans, logger, onEventCommitted }));
  return createServiceApp({
    production: config.production, trustProxy: config.trustProxy, logger, metrics, verifier, readiness: serviceReadiness(deps), allowedOrigins: config.allowedOrigins, routes,
  });
}
