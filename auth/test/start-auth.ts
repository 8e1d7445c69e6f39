import type { Express } from 'express';
import { migrate, openDatabase, type Database, type Logger } from '@ticketing/common';
import { createTestDatabase, silentLogger, TEST_JWT_KEY } from '@ticketing/common/testing';
import { createApp } from '../src/app.js';
import { loadConfig, type AuthConfig } from '../src/config.js';
import { MIGRATIONS } from '../src/schema.js';

export const ADMIN_EMAIL = 'admin@example.com';

export interface TestAuth {
  app: Express;
  db: Database;
  config: AuthConfig;
  close(): Promise<void>;
}

/** The auth app on a fresh database of its own on the real PostgreSQL. */
export async function startAuth(env: Record<string, string> = {}, logger: Logger = silentLogger()): Promise<TestAuth> {
  const testDb = await createTestDatabase();
  const config = Object.freeze(loadConfig({
    JWT_KEY: TEST_JWT_KEY,
    DATABASE_URL: testDb.url,
    ADMIN_EMAILS: ADMIN_EMAIL,
    AUTH_RATE_LIMIT: '1000',
    ...env,
  }));
  const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
  await migrate(db, MIGRATIONS);
  return {
    app: createApp({ config, db, logger }),
    db,
    config,
    async close() {
      await db.close();
      await testDb.drop();
    },
  };
}
