import { loadServiceConfig, type Env, type ServiceConfig } from '@ticketing/common/runtime';

export type OrdersConfig = ServiceConfig;

/** Reads and validates the orders service's settings (see the README's config table). */
export function loadConfig(env: Env): OrdersConfig {
  return loadServiceConfig(env, { port: 3001, metricsPort: 9301, dataDir: '.data/orders' });
}
