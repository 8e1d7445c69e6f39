import type { Express } from 'express';
import { createTokenKey, createTokenSigner, migrate, openDatabase, type Database, type Logger, type Role } from '@ticketing/common';
import { cookieWithJwt, createAuthStream, createTestDatabase, silentLogger, startNatsServer, startTestServiceDeps, TEST_JWT_KEY, type TestServiceDeps } from '@ticketing/testing';
import { createApp } from '../src/app.js';
import { loadConfig, type OrdersConfig } from '../src/config.js';
import { MIGRATIONS } from '../src/schema.js';

export interface TestOrders {
  app: Express;
  db: Database;
  config: OrdersConfig;
  deps: TestServiceDeps;
  close(): Promise<void>;
}

/**
 * The orders app on a database of its own (a fresh one on the shared test server unless
 * `databaseUrl` is given) and a nats-server of its own (unless `natsUrl` is given), ban list caught up.
 */
export async function startOrders(
  options: { databaseUrl?: string; natsUrl?: string; logger?: Logger; env?: Record<string, string> } = {},
): Promise<TestOrders> {
  const testDb = options.databaseUrl === undefined ? await createTestDatabase() : undefined;
  const natsServer = options.natsUrl === undefined ? await startNatsServer() : undefined;
  const config = Object.freeze(loadConfig({
    JWT_KEY: TEST_JWT_KEY,
    DATABASE_URL: options.databaseUrl ?? testDb!.url,
    NATS_URL: options.natsUrl ?? natsServer!.url,
    ...options.env,
  }));
  const logger = options.logger ?? silentLogger();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
  await migrate(db, { service: 'orders', migrations: MIGRATIONS });
  // Auth makes the stream; orders only waits for it.
  await createAuthStream(config.natsUrl);
  const deps = await startTestServiceDeps({ config, logger, service: 'orders' });
  return {
    app: createApp({ config, db, logger, ...deps }),
    db,
    config,
    deps,
    async close() {
      await deps.close();
      await db.close();
      await testDb?.drop();
      await natsServer?.destroy();
    },
  };
}

const signer = createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 15 * 60_000 });

/** A session cookie for a user, signed as auth would sign it. */
export function cookieFor(user: { id: string; email?: string; role?: Role }): string {
  return cookieWithJwt(signer.sign({ email: `${user.id}@example.com`, role: 'user', ...user }));
}
