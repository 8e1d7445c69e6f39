import type { Server } from 'node:http';
import { createMetrics, createMetricsApp } from '@ticketing/common/http';
import { closeGracefully, ConfigError, createServiceLogger, listen, onShutdownSignal } from '@ticketing/common/runtime';
import { createClientApp } from './app.js';
import { loadConfig, type ClientConfig } from './config.js';

/** Prints one line and exits: the way the client refuses to start. */
function exitWith(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

let config: ClientConfig;
try {
  config = Object.freeze(loadConfig(process.env));
} catch (err) {
  if (err instanceof ConfigError) exitWith(`client: invalid config: ${err.message}`);
  throw err;
}

const logger = createServiceLogger('client', config, process.env);
const metrics = createMetrics({ service: 'client' });
const server = await listen(createClientApp({ config, logger, metrics }), config.port).catch((err: unknown) => exitWith(`client: ${(err as Error).message}`));
const metricsServer = await listen(createMetricsApp(metrics), config.metricsPort)
  .catch((err: unknown) => exitWith(`client: metrics: ${(err as Error).message} (METRICS_PORT)`));
logger.info({ port: portOf(server), metricsPort: portOf(metricsServer), production: config.production, auth: config.authUrl, orders: config.ordersUrl }, 'listening');
onShutdownSignal(logger, () => closeGracefully(server, {
  timeoutMs: 10_000,
  cleanup: () => closeGracefully(metricsServer, { timeoutMs: 1_000, cleanup: async () => undefined }),
}));
