import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from './logger.js';

/** Listens on `port` (0 picks a free one); resolves once the server accepts connections. */
export function listen(app: Express, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}

/**
 * Stops accepting connections, lets requests in flight finish (for at most `timeoutMs`), then runs
 * `cleanup` (close NATS, the database) and resolves.
 *
 * @example
 * await closeGracefully(server, { timeoutMs: 10_000, cleanup: () => db.close() });
 */
export async function closeGracefully(server: Server, options: { timeoutMs: number; cleanup: () => Promise<void> }): Promise<void> {
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), options.timeoutMs);
    // A keep-alive connection busy now turns idle once its response is sent; close it then too,
    // rather than waiting for the client or the keep-alive timeout.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
  await options.cleanup();
}

/**
 * Runs `stop` once on SIGTERM or SIGINT and exits with 0 when it resolves (1 when it throws).
 *
 * @example
 * onShutdownSignal(logger, () => closeGracefully(server, { timeoutMs: 10_000, cleanup }));
 */
export function onShutdownSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handle);
  process.once('SIGINT', handle);
}
