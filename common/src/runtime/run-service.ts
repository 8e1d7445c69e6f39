import type { Express } from 'express';
import { startServiceBanSync, type BanSync } from '../events/ban-sync.js';
import { ConfigError, type Env, type ServiceConfig } from './config.js';
import { migrate, openDatabase, type Database } from './database.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from '../http/metrics.js';
import { connectNats, type NatsClient } from '../events/nats.js';
import { closeGracefully, listen, onShutdownSignal } from './serve.js';

/** What `runService` opens and hands to the service's `createApp`. */
export interface ServiceDeps<C extends ServiceConfig> {
  config: C;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  nats: NatsClient;
  banSync: BanSync;
}

/** A service's app, and whatever else it started that must stop on shutdown. */
export interface ServiceParts {
  app: Express;
  close?: () => Promise<void>;
}

export interface RunServiceOptions<C extends ServiceConfig> {
  service: string;
  env: Env;
  loadConfig: (env: Env) => C;
  migrations: readonly string[];
  start: (deps: ServiceDeps<C>) => ServiceParts;
}

/** Prints one line and exits: the way a service refuses to start. */
function exitWith(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * The `main` of every service: validate config (a bad value stops the process with one line naming
 * it), open and migrate the database (unreachable: stop with a clear message), connect to NATS in
 * the background and start ban sync (the service serves while NATS is down), listen, and on
 * SIGTERM stop accepting, drain, and close everything.
 *
 * @example
 * await runService({ service: 'orders', env: process.env, loadConfig, migrations, start: (deps) => ({ app: createApp(deps) }) });
 */
export async function runService<C extends ServiceConfig>(options: RunServiceOptions<C>): Promise<void> {
  const { service } = options;
  let config: C;
  try {
    config = Object.freeze(options.loadConfig(options.env));
  } catch (err) {
    if (err instanceof ConfigError) exitWith(`${service}: invalid config: ${err.message}`);
    throw err;
  }
  const logger = createLogger({ service, level: config.logLevel });
  let db: Database;
  try {
    db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
    await migrate(db, options.migrations);
  } catch (err) {
    exitWith(`${service}: ${(err as Error).message}`);
  }
  logger.info({ database: db.kind }, 'database ready');
  const metrics = createMetrics({ service });
  const nats = connectNats({ url: config.natsUrl, name: service, logger, registry: metrics.registry });
  const banSync = startServiceBanSync({ config, nats, logger, registry: metrics.registry });
  const parts = options.start({ config, db, logger, metrics, nats, banSync });
  const server = await listen(parts.app, config.port).catch((err: unknown) => exitWith(`${service}: ${(err as Error).message}`));
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.port }, 'listening');
  onShutdownSignal(logger, () => closeGracefully(server, {
    timeoutMs: 10_000,
    cleanup: async () => {
      await parts.close?.();
      await banSync.stop();
      await nats.close();
      await db.close();
    },
  }));
}
