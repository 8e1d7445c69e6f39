import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { ServiceUnavailableError } from '@ticketing/common/http';
import { migrate, openDatabase } from '@ticketing/common/runtime';
import { isConnectionError, redactUrl } from '../src/runtime/database.js';
import { createTestDatabase, silentLogger, TEST_POSTGRES_URL, type TestDatabase } from '@ticketing/testing';
import { MIGRATIONS, databaseContract } from './database-contract.js';

const logger = silentLogger();

describe('openDatabase on PostgreSQL', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => {
    await testDb?.drop();
  });

  databaseContract(() => openDatabase({ url: testDb.url, dataDir: '', logger }), 'postgres');

  it('serialises concurrent migrations (several replicas starting at once)', async () => {
    const replicas = await Promise.all([1, 2, 3].map(() => openDatabase({ url: testDb.url, dataDir: '', logger })));
    try {
      const migrations = [...MIGRATIONS, "INSERT INTO notes (body) VALUES ('third')", "INSERT INTO notes (body) VALUES ('once')"];
      await Promise.all(replicas.map((replica) => migrate(replica, { service: 'notes', migrations })));
      const { rows } = await replicas[0]!.query<{ n: number }>("SELECT count(*)::int AS n FROM notes WHERE body = 'once'");
      expect(rows[0]!.n).toBe(1);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
    }
  });
});

describe('openDatabase when the server is unreachable', () => {
  it('rejects with cannot reach database', async () => {
    const err: unknown = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/x', dataDir: '', logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as Error).message.startsWith('cannot reach database ')).toBe(true);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('keeps the password out of the message', async () => {
    const err: unknown = await openDatabase({ url: 'postgres://u:hunter2@127.0.0.1:1/x', dataDir: '', logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message.startsWith('cannot reach database')).toBe(true);
    expect((err as Error).message).not.toContain('hunter2');
    expect((err as Error).message).toContain('u:***@127.0.0.1:1');
  });
});

describe('isConnectionError', () => {
  it.each([
    ['ECONNREFUSED', { code: 'ECONNREFUSED' }],
    ['ECONNRESET', { code: 'ECONNRESET' }],
    ['57P01 (admin shutdown)', { code: '57P01' }],
    ['57P03 (cannot connect now)', { code: '57P03' }],
    ['08006 (connection failure)', { code: '08006' }],
    ['pg: Connection terminated', new Error('Connection terminated unexpectedly')],
    ['pg: connect timeout', new Error('timeout exceeded when trying to connect')],
  ])('is true for %s', (_name, err) => {
    expect(isConnectionError(err)).toBe(true);
  });

  it.each([
    ['23505 (unique violation)', { code: '23505' }],
    ['42P01 (undefined table)', { code: '42P01' }],
    ['a syntax error', new Error('syntax error at or near "NOT"')],
    ['null', null],
    ['undefined', undefined],
    ['a bare string', 'ECONNREFUSED'],
    ['a numeric code', { code: 57 }],
  ])('is false for %s', (_name, err) => {
    expect(isConnectionError(err)).toBe(false);
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://u:hunter2@db:5432/orders')).toBe('postgres://u:***@db:5432/orders');
    expect(redactUrl('postgres://u@db/orders')).toBe('postgres://u@db/orders');
    expect(redactUrl('not a url hunter2')).toBe('[unparseable url]');
  });
});

describe('openDatabase when the database is missing', () => {
  it('rejects naming the database and the reason', async () => {
    const missing = new URL(TEST_POSTGRES_URL);
    missing.pathname = '/t_does_not_exist';
    const err: unknown = await openDatabase({ url: missing.toString(), dataDir: '', logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message.startsWith(`cannot reach database ${redactUrl(missing.toString())}: `)).toBe(true);
    expect(message).toMatch(/database "t_does_not_exist" does not exist/);
  });
});
