import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The server tests create their databases on: `TEST_DATABASE_URL` when set, else the one CI and the
 * dev machine run at `127.0.0.1:5432`. A test that needs the server's address (not a database of
 * its own) reads it here, so it follows `TEST_DATABASE_URL` too.
 */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** URL of a new, empty database of its own. */
  url: string;
  /** Drops it (closing any connection left open). */
  drop(): Promise<void>;
}

/**
 * Creates an empty database of its own on the test server ({@link TEST_POSTGRES_URL}), so test
 * files run in parallel without sharing rows.
 *
 * @example
 * const testDb = await createTestDatabase();
 * const db = await openDatabase({ url: testDb.url, dataDir: '', logger });
 * afterAll(() => db.close().then(testDb.drop));
 */
export async function createTestDatabase(baseUrl = TEST_POSTGRES_URL): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
