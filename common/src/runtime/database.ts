import { mkdir } from 'node:fs/promises';
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

async function pglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir !== 'memory://') await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
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
    close: () => db.close(),
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

/**
 * Brings `service`'s schema up to date: applies, in order and once each, the migrations not yet
 * recorded for it in `schema_migrations`, which keeps each service's history apart, so services may
 * share one database. Safe when several replicas start at once (an advisory lock serialises them).
 * A `schema_migrations` from before histories were kept apart (no `service` column) is taken to be
 * the history of the first service that migrates after the upgrade.
 *
 * @example
 * await migrate(db, { service: 'orders', migrations: ['CREATE TABLE orders (...)', 'ALTER TABLE orders ADD COLUMN ...'] });
 */
export async function migrate(db: Database, options: { service: string; migrations: readonly string[] }): Promise<void> {
  const { service, migrations } = options;
  if (!SERVICE_NAME.test(service)) throw new TypeError(`migrate: service must be lower-case letters, digits and "-", got ${JSON.stringify(service)}`);
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))");
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      service text NOT NULL, version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service, version))`);
    await adoptSingleServiceHistory(tx, service);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations WHERE service = $1', [service]);
    const applied = new Set(rows.map((row) => row.version));
    for (const [index, sql] of migrations.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (service, version) VALUES ($1, $2)', [service, version]);
    }
  });
}

/** Turns a history kept by version alone (one service per database) into `service`'s. */
async function adoptSingleServiceHistory(tx: Queryable, service: string): Promise<void> {
  const { rows } = await tx.query(
    `SELECT 1 FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'schema_migrations' AND column_name = 'service'`,
  );
  if (rows.length > 0) return;
  // The name was checked against SERVICE_NAME, so it can stand in the statement as a literal.
  await tx.exec(`ALTER TABLE schema_migrations ADD COLUMN service text NOT NULL DEFAULT '${service}';
    ALTER TABLE schema_migrations ALTER COLUMN service DROP DEFAULT;
    ALTER TABLE schema_migrations DROP CONSTRAINT schema_migrations_pkey;
    ALTER TABLE schema_migrations ADD PRIMARY KEY (service, version);`);
}
