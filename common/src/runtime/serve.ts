import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from './logger.js';

/** Why a listen failed, in words, for the errors people meet; others keep Node's message. */
const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
};

/** How long a client may take to send its headers, in ms. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How long a client may take to send a whole request, body included, in ms (bodies are at most 16 kB). */
export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Listens on `port` (0 picks a free one); resolves once the server accepts connections. When it
 * cannot, rejects with an error that is one line naming the port (`cannot listen on port 3001:
 * address already in use`), with Node's `code` and its error as `cause`.
 *
 * @example
 * const server = await listen(app, config.port);
 */
export function listen(app: Express, port: number): Promise<Server> {
  // A client that trickles its headers or body holds a connection; Node's defaults allow minutes,
  // and check only every 30 s.
  const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 }, app);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason = (err.code === undefined ? undefined : LISTEN_FAILURES[err.code]) ?? err.message;
      reject(Object.assign(new Error(`cannot listen on port ${port}: ${reason}`, { cause: err }), { code: err.code }));
    });
    server.listen(port, () => resolve(server));
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
 * Runs `stop` once on SIGTERM, SIGINT or SIGHUP (a closed terminal) and exits with 0 when it resolves (1 when it throws).
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
  process.once('SIGHUP', handle);
}
