import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server tests create their databases on; CI and the dev machine run one here. */
export const TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** URL of a new, empty database of its own. */
  url: string;
  /** Drops it (closing any connection left open). */
  drop(): Promise<void>;
}

/**
 * Creates an empty database of its own on the test server, so test files run in parallel without
 * sharing rows. `TEST_DATABASE_URL` points it at another server.
 *
 * @example
 * const testDb = await createTestDatabase();
 * const db = await openDatabase({ url: testDb.url, dataDir: '', logger });
 * afterAll(() => db.close().then(testDb.drop));
 */
export async function createTestDatabase(baseUrl = process.env.TEST_DATABASE_URL ?? TEST_POSTGRES_URL): Promise<TestDatabase> {
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
