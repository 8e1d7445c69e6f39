import type { Express } from 'express';
import { createMetrics, migrate, openDatabase, type Database, type Logger } from '@ticketing/common';
import { createTestDatabase, silentLogger, startNatsServer, startTestServiceDeps, TEST_JWT_KEY, type TestServiceDeps } from '@ticketing/testing';
import { createApp } from '../src/app.js';
import { loadConfig, type AuthConfig } from '../src/config.js';
import { MIGRATIONS } from '../src/schema.js';
import { startOutboxRelay, type OutboxRelay } from '../src/outbox.js';
import { createPasswordHasher, type PasswordHasher } from '../src/password-hasher.js';

export const ADMIN_EMAIL = 'admin@example.com';

export interface TestAuth {
  app: Express;
  db: Database;
  config: AuthConfig;
  deps: TestServiceDeps;
  /** Absent when started with `relay: false` (a relay that crashed before publishing anything). */
  relay: OutboxRelay | undefined;
  close(): Promise<void>;
}

/**
 * The auth app on a fresh database of its own on the real PostgreSQL, with its outbox relay and ban
 * sync on a nats-server of its own (unless `NATS_URL` is given).
 */
export async function startAuth(
  env: Record<string, string> = {},
  options: { logger?: Logger; relay?: boolean } = {},
): Promise<TestAuth> {
  const logger = options.logger ?? silentLogger();
  const testDb = await createTestDatabase();
  const natsServer = env.NATS_URL === undefined ? await startNatsServer() : undefined;
  const config = Object.freeze(loadConfig({
    JWT_KEY: TEST_JWT_KEY,
    DATABASE_URL: testDb.url,
    NATS_URL: natsServer?.url,
    ADMIN_EMAILS: ADMIN_EMAIL,
    AUTH_RATE_LIMIT: '1000',
    ...env,
  }));
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
  await migrate(db, { service: 'auth', migrations: MIGRATIONS });
  const deps = await startTestServiceDeps({ config, logger, service: 'auth', manageStream: true });
  const relay = options.relay === false
    ? undefined
    : startOutboxRelay({ db, nats: deps.nats, logger, registry: deps.metrics.registry, intervalMs: 200 });
  return {
    app: createApp({ config, db, logger, ...deps, relay: relay ?? { kick: () => undefined } }),
    db,
    config,
    deps,
    relay,
    async close() {
      await relay?.stop();
      await deps.close();
      await db.close();
      await testDb.drop();
      await natsServer?.destroy();
    },
  };
}

/**
 * Another auth app on `auth`'s database and NATS, with settings, a hasher and a logger of its own,
 * and metrics of its own: each app registers its metrics, so its limiter counters and metrics
 * start from nothing. It publishes nothing (its relay is a no-op) unless given `auth.relay`; `now`
 * freezes the clock refresh tokens are judged by.
 */
export function authAppWith(
  auth: TestAuth,
  options: { settings?: Partial<AuthConfig>; hasher?: PasswordHasher; logger?: Logger; now?: () => number; relay?: Pick<OutboxRelay, 'kick'> } = {},
): Express {
  return createApp({
    ...auth.deps,
    metrics: createMetrics({ service: 'auth' }),
    config: Object.freeze({ ...auth.config, ...options.settings }),
    db: auth.db,
    logger: options.logger ?? silentLogger(),
    relay: options.relay ?? { kick: () => undefined },
    hasher: options.hasher,
    now: options.now,
  });
}

/**
 * A hasher that counts the calls made to it (a call waiting in its queue counts), so a test can
 * see that a limit stopped a request before it cost a hash. Fast by default (N = 2^10).
 */
export function countingHasher(inner: PasswordHasher = createPasswordHasher({ N: 2 ** 10, r: 8, p: 1 })): PasswordHasher & { readonly calls: number } {
  let calls = 0;
  const count = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A) => {
    calls += 1;
    return fn(...args);
  };
  return {
    hash: count(inner.hash),
    verify: count(inner.verify),
    verifyNothing: count(inner.verifyNothing),
    get calls() {
      return calls;
    },
  };
}
