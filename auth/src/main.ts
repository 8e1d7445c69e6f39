import { runService } from '@ticketing/common/runtime';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { startOutboxRelay } from './outbox.js';
import { MIGRATIONS } from './schema.js';

await runService({
  service: 'auth',
  env: process.env,
  loadConfig,
  migrations: MIGRATIONS,
  // Only auth's NATS user may create and change the AUTH stream.
  manageAuthStream: true,
  start: (deps) => {
    const relay = startOutboxRelay({ db: deps.db, nats: deps.nats, logger: deps.logger, registry: deps.metrics.registry });
    return { app: createApp({ ...deps, relay }), close: () => relay.stop() };
  },
});
