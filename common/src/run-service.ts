import type { Express } from 'express';
import { ConfigError, type Env, type ServiceConfig } from './config.js';
import { migrate, openDatabase, type Database } from './database.js';
import { createLogger, type Logger } from './logger.js';
import { closeGracefully, listen, onShutdownSignal } from './serve.js';

export interface ServiceDeps<C extends ServiceConfig> {
  config: C;
  db: Database;
  logger: Logger;
}

export interface RunServiceOptions<C extends ServiceConfig> {
  service: string;
  env: Env;
  loadConfig: (env: Env) => C;
  migrations: readonly string[];
  createApp: (deps: ServiceDeps<C>) => Express;
}

/** Prints one line and exits: the way a service refuses to start. */
function exitWith(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * The `main` of every service: validate config (a bad value stops the process with one line naming
 * it), open and migrate the database (unreachable: stop with a clear message), listen, and on
 * SIGTERM stop accepting, drain, and close the database.
 *
 * @example
 * await runService({ service: 'orders', env: process.env, loadConfig, migrations, createApp });
 */
export async function runService<C extends ServiceConfig>(options: RunServiceOptions<C>): Promise<void> {
  let config: C;
  try {
    config = Object.freeze(options.loadConfig(options.env));
  } catch (err) {
    if (err instanceof ConfigError) exitWith(`${options.service}: invalid config: ${err.message}`);
    throw err;
  }
  const logger = createLogger({ service: options.service, level: config.logLevel });
  let db: Database;
  try {
    db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, logger });
    await migrate(db, options.migrations);
  } catch (err) {
    exitWith(`${options.service}: ${(err as Error).message}`);
  }
  logger.info({ database: db.kind }, 'database ready');
  const app = options.createApp({ config, db, logger });
  const server = await listen(app, config.port);
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.port }, 'listening');
  onShutdownSignal(logger, () => closeGracefully(server, { timeoutMs: 10_000, cleanup: () => db.close() }));
}
