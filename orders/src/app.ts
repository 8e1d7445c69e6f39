import type { Express } from 'express';
import { createServiceApp } from '@ticketing/common/http';
import { createServiceTokenVerifier, serviceReadiness, type ServiceDeps } from '@ticketing/common/runtime';
import type { OrdersConfig } from './config.js';
import { ordersRouter } from './orders-router.js';

export type OrdersDeps = Pick<ServiceDeps<OrdersConfig>, 'config' | 'db' | 'logger' | 'metrics' | 'nats' | 'banSync'>;

/** Builds the orders service's express app from what it is given; it opens nothing itself. */
export function createApp(deps: OrdersDeps): Express {
  const { config, db, logger, metrics, banSync } = deps;
  return createServiceApp({
    production: config.production,
    logger,
    metrics,
    verifier: createServiceTokenVerifier(config),
    readiness: serviceReadiness(deps),
    allowedOrigins: config.allowedOrigins,
    trustProxy: config.trustProxy,
    routes: ordersRouter({ db, bans: banSync.bans }),
  });
}
