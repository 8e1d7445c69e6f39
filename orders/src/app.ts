import type { Express } from 'express';
import { createMetrics, createServiceApp, createTokenKey, createTokenVerifier, type Database, type Logger } from '@ticketing/common';
import type { OrdersConfig } from './config.js';
import { ordersRouter } from './orders-router.js';

export interface OrdersDeps {
  config: OrdersConfig;
  db: Database;
  logger: Logger;
}

/** Builds the orders service's express app from what it is given; it opens nothing itself. */
export function createApp(deps: OrdersDeps): Express {
  const { config, db, logger } = deps;
  const verifier = createTokenVerifier({ key: createTokenKey(config.jwtKey), clockToleranceMs: config.clockSkewMs });
  return createServiceApp({
    production: config.production,
    logger,
    metrics: createMetrics({ service: 'orders' }),
    verifier,
    readiness: { database: async () => void (await db.query('SELECT 1')) },
    routes: ordersRouter({ db }),
  });
}
