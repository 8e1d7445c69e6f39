import { runService } from '@ticketing/common/runtime';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { startOutboxRelay } from './outbox.js';
import { MIGRATIONS } from './schema.js';
import { startSessionPruner } from './sessions.js';

await runService({
  service: 'auth',
  env: process.env,
  loadConfig,
  migrations: MIGRATIONS,
  ownedTable: 'users',
  // Only auth's NATS user may create and change the AUTH stream.
  manageAuthStream: (config) => ({ replicas: config.authStreamReplicas }),
  start: (deps) => {
    const relay = startOutboxRelay({ db: deps.db, nats: deps.nats, logger: deps.logger, registry: deps.metrics.registry });
    const pruner = startSessionPruner({ db: deps.db, logger: deps.logger });
    return {
      app: createApp({ ...deps, relay }),
      close: async () => {
        await pruner.stop();
        await relay.stop();
      },
    };
  },
});
