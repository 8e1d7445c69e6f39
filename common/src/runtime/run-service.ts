import type { Server } from 'node:http';
import type { Express } from 'express';
import { startServiceBanSync, type BanSync } from '../events/ban-sync.js';
import { connectNats, type NatsClient } from '../events/nats.js';
import { createMetrics, createMetricsApp, type Metrics } from '../http/metrics.js';
import { ConfigError, type Env, type ProcessConfig, type ServiceConfig } from './config.js';
import { migrate, openDatabase, type Database } from './database.js';
import { createLogger, type Logger } from './logger.js';
import { closeGracefully, listen, onShutdownSignal } from './serve.js';

/** What `runService` opens and hands to the service's `start`: `db` only for a service with migrations. */
export interface ServiceDeps<C extends ServiceConfig> {
  config: C;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  nats: NatsClient;
  banSync: BanSync;
}

/** What a service without a database gets. */
export type ServiceDepsWithoutDatabase<C extends ServiceConfig> = Omit<ServiceDeps<C>, 'db'>;

/** A service's app, and whatever else it started that must stop on shutdown. */
export interface ServiceParts {
  app: Express;
  close?: () => Promise<void>;
}

interface CommonOptions<C extends ServiceConfig> {
  /** Names the service in logs, metrics and NATS. */
  service: string;
  env: Env;
  loadConfig: (env: Env) => C;
  /** How long requests in flight may take to finish on SIGTERM before they are cut, in ms (default 10 000). */
  drainTimeoutMs?: number;
  /**
   * Create the `AUTH` stream and keep its limits: auth only, whose NATS user may change it. Every
   * other service waits for the stream to exist (default false).
   */
  manageAuthStream?: boolean | ((config: C) => { replicas: number });
}

/** A service that owns a database: it is opened and migrated before `start`. */
export interface RunServiceOptions<C extends ServiceConfig> extends CommonOptions<C> {
  /** The schema's migrations, applied in order, once each. */
  migrations: readonly string[];
  /** A table the first migration creates: see `migrate`'s `ownedTable` (a history kept before services' histories were kept apart). */
  ownedTable?: string;
  start: (deps: ServiceDeps<C>) => ServiceParts;
}

/** A service without a database (a web client, say): nothing is opened but NATS. */
export interface RunServiceWithoutDatabaseOptions<C extends ServiceConfig> extends CommonOptions<C> {
  database: false;
  start: (deps: ServiceDepsWithoutDatabase<C>) => ServiceParts;
}

/** The port a listening server got (the one asked for, or the one the system chose for 0). */
function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** Prints one line and exits: the way a service refuses to start. */
function exitWith(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function readConfig<C extends ServiceConfig>(options: CommonOptions<C>): C {
  try {
    return Object.freeze(options.loadConfig(options.env));
  } catch (err) {
    if (err instanceof ConfigError) exitWith(`${options.service}: invalid config: ${err.message}`);
    throw err;
  }
}

async function openServiceDatabase(
  service: string, config: ServiceConfig, schema: { migrations: readonly string[]; ownedTable?: string }, logger: Logger,
): Promise<Database> {
  try {
    const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
    await migrate(db, { service, ...schema });
    logger.info({ database: db.kind }, 'database ready');
    return db;
  } catch (err) {
    exitWith(`${service}: ${(err as Error).message}`);
  }
}

/**
 * The service's logger: `LOG_FORMAT`, or else pretty lines in a terminal and JSON elsewhere (and
 * always in production). Pretty lines are coloured in a terminal, or when `FORCE_COLOR` asks.
 *
 * @example
 * const logger = createServiceLogger('client', config, process.env);
 */
export function createServiceLogger(service: string, config: Pick<ProcessConfig, 'production' | 'logLevel' | 'logFormat'>, env: Env): Logger {
  const terminal = process.stdout.isTTY === true;
  const format = config.logFormat ?? (terminal && !config.production ? 'pretty' : 'json');
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0';
  return createLogger({ service, level: config.logLevel, format, colour: terminal || forced });
}

/**
 * The `main` of every service: validate config (a bad value stops the process with one line naming
 * it), open and migrate the database unless the service has none (unreachable: stop with a clear
 * message), connect to NATS in the background and start ban sync (the service serves while NATS is
 * down), listen (a taken port: one line), and on SIGTERM stop accepting, drain for at most
 * `drainTimeoutMs`, and close everything.
 *
 * @example
 * await runService({ service: 'orders', env: process.env, loadConfig, migrations, start: (deps) => ({ app: createApp(deps) }) });
 * await runService({ service: 'tickets', env: process.env, loadConfig, database: false, start: (deps) => ({ app: createTicketsApp(deps) }) });
 */
export async function runService<C extends ServiceConfig>(options: RunServiceOptions<C>): Promise<void>;
export async function runService<C extends ServiceConfig>(options: RunServiceWithoutDatabaseOptions<C>): Promise<void>;
export async function runService<C extends ServiceConfig>(options: RunServiceOptions<C> | RunServiceWithoutDatabaseOptions<C>): Promise<void> {
  const { service } = options;
  const config = readConfig(options);
  const logger = createServiceLogger(service, config, options.env);
  let db: Database | undefined;
  let start: (deps: ServiceDepsWithoutDatabase<C>) => ServiceParts;
  if ('migrations' in options) {
    const opened = await openServiceDatabase(service, config, { migrations: options.migrations, ownedTable: options.ownedTable }, logger);
    db = opened;
    start = (deps) => options.start({ ...deps, db: opened });
  } else {
    start = options.start;
  }
  const metrics = createMetrics({ service });
  const nats = connectNats({ url: config.natsUrl, nkeySeed: config.natsNkeySeed, name: service, logger, registry: metrics.registry });
  const manage = typeof options.manageAuthStream === 'function' ? options.manageAuthStream(config) : options.manageAuthStream;
  const banSync = startServiceBanSync({
    config, nats, logger, registry: metrics.registry, manageStream: manage !== undefined && manage !== false, streamReplicas: typeof manage === 'object' ? manage.replicas : undefined,
  });
  const parts = start({ config, logger, metrics, nats, banSync });
  const server = await listen(parts.app, config.port).catch((err: unknown) => exitWith(`${service}: ${(err as Error).message}`));
  const metricsServer = await listen(createMetricsApp(metrics), config.metricsPort)
    .catch((err: unknown) => exitWith(`${service}: metrics: ${(err as Error).message} (METRICS_PORT)`));
  logger.info({ port: portOf(server), metricsPort: portOf(metricsServer), production: config.production }, 'listening');
  onShutdownSignal(logger, () => closeGracefully(server, {
    timeoutMs: options.drainTimeoutMs ?? 10_000,
    cleanup: async () => {
      await closeGracefully(metricsServer, { timeoutMs: 1_000, cleanup: async () => undefined });
      await parts.close?.();
      await banSync.stop();
      await nats.close();
      await db?.close();
    },
  }));
}
