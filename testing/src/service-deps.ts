import { connectNats, startServiceBanSync, type BanSync, type NatsClient } from '@ticketing/common/events';
import { createMetrics, type Metrics } from '@ticketing/common/http';
import type { Logger, ServiceConfig } from '@ticketing/common/runtime';

export interface TestServiceDeps {
  metrics: Metrics;
  nats: NatsClient;
  banSync: BanSync;
  close(): Promise<void>;
}

/**
 * What `runService` would open besides the database, for an app built in a test: metrics, a NATS
 * client on `config.natsUrl` (use a server from `startNatsServer`) and ban sync, caught up. Only
 * with `manageStream` (auth's) does the sync create the `AUTH` stream; otherwise make it first
 * (`createAuthStream`), or this waits for it.
 *
 * @example
 * const nats = await startNatsServer();
 * const deps = await startTestServiceDeps({ config: { ...config, natsUrl: nats.url }, logger, service: 'orders' });
 */
export async function startTestServiceDeps(
  options: { config: ServiceConfig; logger: Logger; service: string; manageStream?: boolean },
): Promise<TestServiceDeps> {
  const { config, logger, service } = options;
  const metrics = createMetrics({ service });
  const nats = connectNats({ url: config.natsUrl, nkeySeed: config.natsNkeySeed, name: service, logger, registry: metrics.registry, retryDelayMs: 100 });
  const banSync = startServiceBanSync({ config, nats, logger, registry: metrics.registry, manageStream: options.manageStream });
  await banSync.ready;
  return {
    metrics,
    nats,
    banSync,
    async close() {
      await banSync.stop();
      await nats.close();
    },
  };
}
