import { Counter, Gauge, type Registry } from 'prom-client';
import type { BanList } from '../bans/ban-list.js';
import type { BanSyncProgress } from './ban-sync-progress.js';

/** The counters a ban sync increments as it applies events. */
export interface BanSyncMetrics {
  applied: Counter<'subject' | 'result'>;
  malformed: Counter;
  clamped: Counter;
  taken: Counter;
}

/**
 * Registers a ban sync's metrics. The gauges read the list and the sync's progress when scraped;
 * the counters are returned for the sync to increment. Without a registry they count unregistered.
 */
export function banSyncMetrics(registry: Registry | undefined, bans: BanList, progress: BanSyncProgress): BanSyncMetrics {
  const registers = registry ? [registry] : [];
  new Gauge({ name: 'ban_list_size', help: 'Entries in the in-memory ban list', registers, collect() { this.set(bans.size); } });
  new Gauge({ name: 'ban_sync_caught_up', help: '1 once the replay of recent ban events has caught up', registers, collect() { this.set(progress.caughtUp ? 1 : 0); } });
  new Gauge({
    name: 'ban_sync_last_event_lag_seconds',
    help: 'Time from publish to apply of the last ban event applied',
    registers,
    collect() { this.set(progress.lastEventLagSeconds); },
  });
  return {
    applied: new Counter({ name: 'ban_events_applied_total', help: 'Ban events taken from the stream, by subject and result', labelNames: ['subject', 'result'] as const, registers }),
    malformed: new Counter({ name: 'ban_events_malformed_total', help: 'Ban events skipped because their payload broke the contract', registers }),
    taken: new Counter({ name: 'ban_sync_events_taken_total', help: 'Times events of this sync\'s consumer were delivered to another client: consumed again, but a sign that this service\'s NATS seed is in other hands', registers }),
    clamped: new Counter({ name: 'ban_events_clamped_total', help: 'Bans dated more than CLOCK_SKEW after the stream stored them: applied as dated, their entry kept at most a window past the stream time', registers }),
  };
}
