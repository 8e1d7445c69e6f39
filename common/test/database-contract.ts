import { afterAll, beforeAll, beforeEach, it, expect } from 'vitest';
import { HttpError } from '@ticketing/common/http';
import { migrate, type Database } from '@ticketing/common/runtime';
import { isConnectionError } from '../src/runtime/database.js';

export const MIGRATIONS = [
  'CREATE TABLE tickets (id serial PRIMARY KEY, title text NOT NULL UNIQUE)',
  "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL); INSERT INTO notes (body) VALUES ('seeded')",
];

/**
 * The same behaviour, whichever engine is behind the Database. Every test starts from an empty
 * schema and sets up what it needs, so each one runs alone (`-t`) or in any order.
 */
export function databaseContract(open: () => Promise<Database>, kind: Database['kind']) {
  let db: Database;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  });

  it(`is a ${kind} database`, () => {
    expect(db.kind).toBe(kind);
  });

  it('applies migrations in order, once each; a second run is a no-op', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    const { rows } = await db.query<{ version: number }>('SELECT version FROM service_migrations ORDER BY version');
    expect(rows.map((row) => row.version)).toEqual([1, 2]);
    // The seeding migration ran once, not twice.
    const notes = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes');
    expect(notes.rows[0]!.n).toBe(1);
  });

  it('keeps each service\'s history apart, so two services can share one database', async () => {
    // Another service migrating first must not make this one skip its own first migration.
    await migrate(db, { service: 'other', migrations: ['CREATE TABLE others (id int)'] });
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    await migrate(db, { service: 'other', migrations: ['CREATE TABLE others (id int)', 'CREATE TABLE others_too (id int)'] });
    const { rows } = await db.query<{ service: string; version: number }>('SELECT service, version FROM service_migrations ORDER BY service, version');
    expect(rows).toEqual([{ service: 'notes', version: 1 }, { service: 'notes', version: 2 }, { service: 'other', version: 1 }, { service: 'other', version: 2 }]);
    const tables = await db.query<{ name: string | null }>("SELECT to_regclass('tickets')::text AS name UNION ALL SELECT to_regclass('others_too')::text");
    expect(tables.rows.map((row) => row.name)).toEqual(['tickets', 'others_too']);
  });

  it('takes a history kept by version alone as the service\'s own only when its table exists, once, and never changes it', async () => {
    const legacy = async (versions: number[]) => {
      await db.exec('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const version of versions) await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    };
    const history = async () => (await db.query<{ service: string; version: number }>('SELECT service, version FROM service_migrations WHERE version > 0 ORDER BY service, version')).rows;
    await legacy([1]);
    await db.exec(MIGRATIONS[0]!);
    // Another service, first: the old history is not its (no table of its own, or versions beyond its migrations).
    await migrate(db, { service: 'other', migrations: ['CREATE TABLE others (id int)'], ownedTable: 'others' });
    await migrate(db, { service: 'notes', migrations: MIGRATIONS, ownedTable: 'tickets' });
    await migrate(db, { service: 'third', migrations: ['CREATE TABLE thirds (id int)', 'SELECT 1'], ownedTable: 'tickets' });
    expect(await history()).toEqual([
      { service: 'notes', version: 1 }, { service: 'notes', version: 2 }, { service: 'other', version: 1 }, { service: 'third', version: 1 }, { service: 'third', version: 2 },
    ]);
    const old = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
    expect(old.rows).toEqual([{ version: 1 }]);
  });

  it('takes no history that is not such a table, or whose versions go beyond the migrations', async () => {
    // Another tool's table of the same name, with text versions: left as it is.
    await db.exec("CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101')");
    await db.exec(MIGRATIONS[0]!);
    await expect(migrate(db, { service: 'notes', migrations: MIGRATIONS, ownedTable: 'tickets' })).rejects.toThrow(/already exists/);
    await db.exec('DROP TABLE schema_migrations; CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now()); INSERT INTO schema_migrations (version) VALUES (1), (5)');
    await expect(migrate(db, { service: 'notes', migrations: MIGRATIONS, ownedTable: 'tickets' })).rejects.toThrow(/already exists/);
    const rails = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rails.rows[0]!.n).toBe(2);
  });

  it('refuses a service name that is not lower-case letters, digits and -', async () => {
    for (const service of ['', 'Auth', "x'; DROP TABLE notes; --", 'a b']) {
      await expect(migrate(db, { service, migrations: MIGRATIONS })).rejects.toThrow(/service must be lower-case/);
    }
    await expect(migrate(db, { service: 'notes', migrations: MIGRATIONS, ownedTable: 'x; DROP' })).rejects.toThrow(/ownedTable/);
  });

  it('applies only the migrations added since the last run', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    await migrate(db, { service: 'notes', migrations: [...MIGRATIONS, "INSERT INTO notes (body) VALUES ('third')"] });
    const { rows } = await db.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
    expect(rows.map((row) => row.body)).toEqual(['seeded', 'third']);
  });

  it('rolls back a migration that fails, recording nothing', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    const before = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM service_migrations');
    await expect(migrate(db, { service: 'notes', migrations: [...MIGRATIONS, "INSERT INTO notes (body) VALUES ('third')", 'CREATE TABLE half_done (id int)', 'NOT SQL'] })).rejects.toThrow();
    const after = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM service_migrations');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    const table = await db.query<{ name: string | null }>("SELECT to_regclass('half_done')::text AS name");
    expect(table.rows[0]!.name).toBeNull();
  });

  it('runs parameterised queries', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    await db.query('INSERT INTO tickets (title) VALUES ($1)', ['concert']);
    const { rows } = await db.query<{ title: string }>('SELECT title FROM tickets WHERE title = $1', ['concert']);
    expect(rows).toEqual([{ title: 'concert' }]);
  });

  it('commits a transaction that resolves, returning its value', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    const id = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number }>('INSERT INTO tickets (title) VALUES ($1) RETURNING id', ['opera']);
      return rows[0]!.id;
    });
    const { rows } = await db.query<{ title: string }>('SELECT title FROM tickets WHERE id = $1', [id]);
    expect(rows).toEqual([{ title: 'opera' }]);
  });

  it('rolls back a transaction that throws, and rethrows its error', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    const failure = new Error('boom');
    await expect(db.transaction(async (tx) => {
      await tx.query('INSERT INTO tickets (title) VALUES ($1)', ['ballet']);
      await tx.exec("INSERT INTO notes (body) VALUES ('in tx')");
      throw failure;
    })).rejects.toBe(failure);
    const tickets = await db.query('SELECT 1 FROM tickets WHERE title = $1', ['ballet']);
    expect(tickets.rows).toEqual([]);
    const notes = await db.query("SELECT 1 FROM notes WHERE body = 'in tx'");
    expect(notes.rows).toEqual([]);
  });

  it('rolls back a transaction whose statement fails, and the database stays usable', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    await db.query('INSERT INTO tickets (title) VALUES ($1)', ['concert']);
    await expect(db.transaction(async (tx) => {
      await tx.query('INSERT INTO tickets (title) VALUES ($1)', ['circus']);
      await tx.query('INSERT INTO tickets (title) VALUES ($1)', ['concert']); // unique violation
    })).rejects.toMatchObject({ code: '23505' });
    const { rows } = await db.query('SELECT 1 FROM tickets WHERE title = $1', ['circus']);
    expect(rows).toEqual([]);
  });

  it('passes a bad statement through as itself, not as a 503', async () => {
    await migrate(db, { service: 'notes', migrations: MIGRATIONS });
    await db.query('INSERT INTO tickets (title) VALUES ($1)', ['concert']);
    const err: unknown = await db.query('INSERT INTO tickets (title) VALUES ($1)', ['concert']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '23505' });
    expect(err).not.toBeInstanceOf(HttpError);
    expect(isConnectionError(err)).toBe(false);
  });
}
