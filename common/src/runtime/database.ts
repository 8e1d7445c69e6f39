import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { ServiceUnavailableError } from '../http/errors.js';
import type { Logger } from './logger.js';

/** Something SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /** One statement with `$1`-style parameters. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[] }>;
  /** Several statements, no parameters (schema changes). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', // admin shutdown, crash shutdown, cannot connect now
]);

/** True for errors that mean "the database is unreachable", as opposed to a bad statement. */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string'
    && /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(message);
}

async function unavailableOnDisconnect<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isConnectionError(err)) throw new ServiceUnavailableError({ message: 'Database unavailable', cause: err });
    throw err;
  }
}

/** The URL with its password hidden, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}

function postgres(url: string, logger: Logger): Database {
  // keepAlive and query_timeout turn a silently dropped connection into an error (then a 503)
  // instead of a request that hangs until TCP gives up.
  const pool = new pg.Pool({
    connectionString: url, max: 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, keepAlive: true, query_timeout: 15_000,
  });
  // An idle client losing its server emits here; without a listener the process would crash.
  pool.on('error', (err) => logger.warn({ err }, 'database connection lost'));
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, params as unknown[]);
      return { rows: result.rows as Row[] };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  });
  const direct = wrap(pool);
  return {
    kind: 'postgres',
    query: (sql, params) => unavailableOnDisconnect(() => direct.query(sql, params)),
    exec: (sql) => unavailableOnDisconnect(() => direct.exec(sql)),
    transaction: (work) => unavailableOnDisconnect(async () => {
      const client = await pool.connect();
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const result = await work(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        broken = isConnectionError(err) ? err : undefined;
        if (broken === undefined) await client.query('ROLLBACK').catch((rollbackErr: unknown) => { broken = rollbackErr; });
        throw err;
      } finally {
        // A client whose connection failed is destroyed, not returned to the pool.
        client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
      }
    }),
    close: () => pool.end(),
  };
}

/** Whether a process with this pid is running (as far as this user can tell). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `dataDir` for this process: PGlite is one process's database, and two processes writing
 * one folder lose data without a word. The lock is a file holding the pid, made whole in one step
 * (a link), taken over only from a process that is gone. Resolves with its release.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = join(dataDir, 'ticketing.pid');
  const draft = `${lockFile}.${process.pid}.${Date.now()}`;
  await writeFile(draft, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await link(draft, lockFile);
        return () => unlink(lockFile).catch(() => undefined);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isSafeInteger(holder) && holder > 0 && isRunning(holder)) {
        throw new ServiceUnavailableError({
          message: `the embedded database in ${dataDir} is open in another process (pid ${holder}): stop it, or give this one a DATA_DIR of its own (if no such process uses it, delete ${lockFile})`,
        });
      }
      // Its process is gone (or it is half written by one that died): take it over.
      await unlink(lockFile).catch(() => undefined);
    }
    throw new ServiceUnavailableError({ message: `cannot lock the embedded database in ${dataDir}: another process keeps taking it` });
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

async function pglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  let unlock = async () => undefined as void;
  if (dataDir !== 'memory://') {
    // PGlite writes its files readable and writable by everyone; the folder keeps others out.
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
    unlock = await lockDataDir(dataDir);
  }
  const db = await PGlite.create(dataDir).catch(async (err: unknown) => {
    await unlock();
    throw err;
  });
  type Tx = Parameters<Parameters<typeof db.transaction>[0]>[0];
  const wrap = (client: typeof db | Tx): Queryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query<Row>(sql, params as unknown[]);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await client.exec(sql);
    },
  });
  const direct = wrap(db);
  return {
    kind: 'pglite',
    query: direct.query,
    exec: direct.exec,
    transaction: (work) => db.transaction((tx) => work(wrap(tx))),
    close: async () => {
      await db.close();
      await unlock();
    },
  };
}

/**
 * Opens the service's database: a `pg` pool when `url` is set, else PGlite (PostgreSQL in-process)
 * stored under `dataDir` (`memory://` keeps it in memory). Throws a `ServiceUnavailableError` (503)
 * when the server cannot be reached, so `main` can stop with a clear message.
 *
 * @example
 * const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
 */
export async function openDatabase(options: { url: string | undefined; dataDir: string; logger: Logger }): Promise<Database> {
  if (options.url === undefined) return pglite(options.dataDir);
  const db = postgres(options.url, options.logger);
  try {
    await db.query('SELECT 1');
  } catch (err) {
    await db.close().catch(() => undefined);
    const reason = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new ServiceUnavailableError({ message: `cannot reach database ${redactUrl(options.url)}: ${reason}`, cause: err });
  }
  return db;
}

/** A service's name as its migration history is kept under: lower-case letters, digits and `-`. */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** A table name `ownedTable` may give: a plain identifier. */
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface MigrateOptions {
  /** Whose history this is: each service keeps its own, so services may share one database. */
  service: string;
  /** The schema's migrations, applied in order, once each. Append; never edit one that shipped. */
  migrations: readonly string[];
  /**
   * A table the service's first migration creates. A database migrated before histories were
   * kept apart holds a `schema_migrations (version, applied_at)` table of one service's versions:
   * it is taken as this service's only when this table exists and no version is beyond
   * `migrations`. Unset: such a history is never taken.
   */
  ownedTable?: string;
}

/**
 * Brings `service`'s schema up to date: applies, in order and once each, the migrations not yet
 * recorded for it in `service_migrations`, which keeps each service's history apart, so services
 * may share one database. Safe when several replicas start at once (an advisory lock serialises
 * them). An older `schema_migrations` table is read, never changed (see `ownedTable`).
 *
 * @example
 * await migrate(db, { service: 'orders', migrations: ['CREATE TABLE orders (...)'], ownedTable: 'orders' });
 */
export async function migrate(db: Database, options: MigrateOptions): Promise<void> {
  const { service, migrations, ownedTable } = options;
  if (!SERVICE_NAME.test(service)) throw new TypeError(`migrate: service must be lower-case letters, digits and "-", got ${JSON.stringify(service)}`);
  if (ownedTable !== undefined && !TABLE_NAME.test(ownedTable)) throw new TypeError(`migrate: ownedTable must be a plain table name, got ${JSON.stringify(ownedTable)}`);
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('service_migrations'))");
    await tx.exec(`CREATE TABLE IF NOT EXISTS service_migrations (
      service text NOT NULL, version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))`);
    let { rows } = await tx.query<{ version: number }>('SELECT version FROM service_migrations WHERE service = $1', [service]);
    if (rows.length === 0 && ownedTable !== undefined) rows = await adoptSingleServiceHistory(tx, service, ownedTable, migrations.length);
    const applied = new Set(rows.map((row) => row.version));
    for (const [index, sql] of migrations.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await tx.exec(sql);
      await tx.query('INSERT INTO service_migrations (service, version) VALUES ($1, $2)', [service, version]);
    }
  });
}

/**
 * The versions of a `schema_migrations (version integer, applied_at)` table from before histories
 * were kept apart, recorded as `service`'s, when they are this service's: `ownedTable` exists, no
 * other service took them, and none is beyond the service's migrations. Otherwise none.
 */
async function adoptSingleServiceHistory(tx: Queryable, service: string, ownedTable: string, count: number): Promise<{ version: number }[]> {
  const { rows: columns } = await tx.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'schema_migrations' ORDER BY column_name`,
  );
  const shape = columns.map((column) => `${column.column_name}:${column.data_type}`).join(',');
  if (shape !== 'applied_at:timestamp with time zone,version:integer') return [];
  const { rows: owned } = await tx.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [ownedTable]);
  if (owned[0]?.found === null) return [];
  const { rows: taken } = await tx.query("SELECT 1 FROM service_migrations WHERE version = 0 AND service LIKE 'adopted:%'");
  if (taken.length > 0) return [];
  const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  if (rows.length === 0 || rows.some((row) => row.version < 1 || row.version > count)) return [];
  // Version 0 marks the old history as taken, by whom, so no other service takes it too.
  await tx.query('INSERT INTO service_migrations (service, version) VALUES ($1, 0)', [`adopted:${service}`]);
  for (const row of rows) await tx.query('INSERT INTO service_migrations (service, version) VALUES ($1, $2)', [service, row.version]);
  return rows;
}
