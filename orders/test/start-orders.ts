import type { Express } from 'express';
import { createTokenKey, createTokenSigner, migrate, openDatabase, type Database, type Logger, type Role } from '@ticketing/common';
import { cookieWithJwt, createTestDatabase, silentLogger, TEST_JWT_KEY } from '@ticketing/common/testing';
import { createApp } from '../src/app.js';
import { loadConfig, type OrdersConfig } from '../src/config.js';
import { MIGRATIONS } from '../src/schema.js';

export interface TestOrders {
  app: Express;
  db: Database;
  config: OrdersConfig;
  close(): Promise<void>;
}

/** The orders app on a database of its own: a fresh one on the shared test server unless `databaseUrl` is given. */
export async function startOrders(options: { databaseUrl?: string; logger?: Logger } = {}): Promise<TestOrders> {
  const testDb = options.databaseUrl === undefined ? await createTestDatabase() : undefined;
  const config = Object.freeze(loadConfig({ JWT_KEY: TEST_JWT_KEY, DATABASE_URL: options.databaseUrl ?? testDb!.url }));
  const logger = options.logger ?? silentLogger();
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
  await migrate(db, MIGRATIONS);
  return {
    app: createApp({ config, db, logger }),
    db,
    config,
    async close() {
      await db.close();
      await testDb?.drop();
    },
  };
}

const signer = createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 15 * 60_000 });

/** A session cookie for a user, signed as auth would sign it. */
export function cookieFor(user: { id: string; email?: string; role?: Role }): string {
  return cookieWithJwt(signer.sign({ email: `${user.id}@example.com`, role: 'user', ...user }));
}
