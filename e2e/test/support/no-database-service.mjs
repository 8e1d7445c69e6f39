// A service without a database, as a web client would be: runService with `database: false`.
// Started by e2e/test/run-service.test.ts against the built packages.
import { Router } from 'express';
import { createServiceApp } from '@ticketing/common/http';
import { createServiceTokenVerifier, loadServiceConfig, runService, serviceReadiness } from '@ticketing/common/runtime';

await runService({
  service: 'no-database',
  env: process.env,
  loadConfig: (env) => loadServiceConfig(env, { port: 0, metricsPort: 0, dataDir: '.data/no-database' }),
  database: false,
  drainTimeoutMs: 2_000,
  start: ({ config, logger, metrics, nats, banSync }) => {
    const routes = Router();
    routes.get('/api/hello', (_req, res) => {
      res.json({ hello: true });
    });
    return {
      app: createServiceApp({ production: config.production, logger, metrics, verifier: createServiceTokenVerifier(config), readiness: serviceReadiness({ banSync, nats }), routes }),
    };
  },
});
