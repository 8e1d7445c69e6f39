import type { BanSync } from '../events/ban-sync.js';
import type { NatsClient } from '../events/nats.js';
import { NotReadyError } from '../http/health.js';

/**
 * The readiness checks every service has: its database answers (when it has one), and its ban list
 * has caught up.
 *
 * @example
 * createServiceApp({ ..., readiness: serviceReadiness({ db, banSync, nats }) });
 */
export function serviceReadiness(deps: { db?: { query(sql: string): Promise<unknown> }; banSync: BanSync; nats: NatsClient }) {
  const { db } = deps;
  return {
    // A service without a database is ready without one.
    ...(db === undefined ? {} : { database: async () => { await db.query('SELECT 1'); } }),
    bans: () => {
      if (deps.banSync.isCaughtUp()) return;
      if (!deps.nats.isConnected()) throw new NotReadyError('NATS unreachable; ban list not caught up');
      throw new NotReadyError(deps.banSync.isWaitingForStream() ? 'waiting for auth to create the AUTH stream' : 'replaying recent ban events');
    },
  };
}
