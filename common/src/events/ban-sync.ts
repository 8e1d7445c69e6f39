import { Counter, type Registry } from 'prom-client';
import { BanList } from '../bans/ban-list.js';
import type { Logger } from 'pino';
import { BanSyncControl } from './ban-sync-control.js';
import { banSyncMetrics } from './ban-sync-metrics.js';
import { BanSyncProgress } from './ban-sync-progress.js';
import { consumeBanEvents, type BanSyncContext } from './consume-ban-events.js';
import type { NatsClient } from './nats.js';

export interface BanSync {
  readonly bans: BanList;
  /** Resolves once the replay of recent events has caught up with the stream. */
  readonly ready: Promise<void>;
  isCaughtUp(): boolean;
  /** True while the `AUTH` stream does not exist and this sync waits for auth to create it. */
  isWaitingForStream(): boolean;
  stop(): Promise<void>;
}

export interface BanSyncOptions {
  nats: NatsClient;
  bans: BanList;
  /**
   * Create the `AUTH` stream when it is missing and lift limits that would lose bans (auth only;
   * NATS authorization lets no other service change it). Default false: wait for the stream to
   * exist, and warn of such limits.
   */
  manageStream?: boolean;
  /** With `manageStream`: the replicas the stream is made with, or raised to (the nodes of a NATS cluster that each keep it; default 1). */
  streamReplicas?: number;
  /** `ACCESS_TOKEN_TTL + CLOCK_SKEW` in ms: how long after a ban its entry is needed. */
  windowMs: number;
  /**
   * `CLOCK_SKEW` in ms: the replay starts `windowMs + clockSkewMs` back (it is read against the NATS
   * server's clock), and a ban dated more than this after the stream stored it is applied as of
   * that bound.
   */
  clockSkewMs?: number;
  logger: Logger;
  registry?: Registry;
  /** Pause before consuming again after a failure, in ms. */
  retryDelayMs?: number;
  /** How often the consumer's delivered position is checked against the events applied, in ms (default 5 000). */
  checkIntervalMs?: number;
  now?: () => number;
}

/**
 * Keeps a {@link BanList} in step with the `AUTH` stream: an ordered consumer filtered to
 * `auth.user.>` replays the last `windowMs` of events, then follows live ones. `ready` resolves
 * once the replay has caught up. It outlives NATS outages (resuming after the last event it
 * applied), and a malformed event is logged, counted and skipped.
 *
 * @example
 * const sync = startBanSync({ nats, bans, windowMs: ttlMs + skewMs, logger, registry });
 * app.use(requireAuth({ bans: sync.bans }));
 */
export function startBanSync(options: BanSyncOptions): BanSync {
  const progress = new BanSyncProgress();
  const context = contextOf(options, progress);
  const control = new BanSyncControl();
  // consumeUntilStopped() catches everything inside its loop; anything escaping it is a bug worth a loud line.
  const running = consumeUntilStopped(context, progress, control, options.retryDelayMs ?? 1_000)
    .catch((err: unknown) => context.logger.error({ err }, 'ban sync stopped by an unexpected error; bans are no longer received'));

  return {
    bans: options.bans,
    ready: progress.ready,
    isCaughtUp: () => progress.caughtUp,
    isWaitingForStream: () => progress.streamMissing,
    async stop() {
      control.stop();
      // Not awaiting `running`: it may be waiting for a connection that closing NATS will refuse.
      void running;
    },
  };
}

/** The options with their defaults, and the sync's metrics registered. */
function contextOf(options: BanSyncOptions, progress: BanSyncProgress): BanSyncContext {
  const { nats, bans, windowMs, logger } = options;
  const metrics = banSyncMetrics(options.registry, bans, progress);
  return {
    nats, bans, windowMs, logger, metrics, manageStream: options.manageStream ?? false, streamReplicas: options.streamReplicas ?? 1, clockSkewMs: options.clockSkewMs ?? 30_000,
    checkIntervalMs: options.checkIntervalMs ?? 5_000, now: options.now ?? Date.now,
  };
}

/** Consume passes until stopped: the next at once after a reconnect, else after `retryDelayMs`. */
async function consumeUntilStopped(context: BanSyncContext, progress: BanSyncProgress, control: BanSyncControl, retryDelayMs: number): Promise<void> {
  while (!control.stopped) {
    try {
      if (await consumeBanEvents(context, progress, control)) continue;
    } catch (err) {
      if (control.stopped) break;
      context.logger.warn({ err: (err as Error).message }, 'ban sync interrupted; resuming');
    }
    if (control.stopped) break;
    await control.pause(retryDelayMs);
  }
}

export interface ServiceBanSyncOptions {
  /** The service's `BAN_CACHE_MAX`, `ACCESS_TOKEN_TTL` and `CLOCK_SKEW`. */
  config: { banCacheMax: number; accessTokenTtlMs: number; clockSkewMs: number };
  nats: NatsClient;
  /** Auth's sync creates the `AUTH` stream and keeps its limits; every other service's waits for it (default false). */
  manageStream?: boolean;
  /** With `manageStream`: the stream's replicas (default 1). */
  streamReplicas?: number;
  logger: Logger;
  /** Where to register the ban metrics (`ban_list_size`, `ban_events_applied_total`, ...). */
  registry?: Registry;
  /** The clock, in milliseconds since the epoch; tests freeze it. */
  now?: () => number;
}

/**
 * The ban list and its sync as every service runs them, from the service's config:
 * `max = BAN_CACHE_MAX`, window `ACCESS_TOKEN_TTL + CLOCK_SKEW`, and the
 * `ban_list_early_evictions_total` counter for live entries pushed out by capacity.
 *
 * @example
 * const banSync = startServiceBanSync({ config, nats, logger, registry: metrics.registry });
 */
export function startServiceBanSync(options: ServiceBanSyncOptions): BanSync {
  const { config, logger, registry, now } = options;
  const windowMs = config.accessTokenTtlMs + config.clockSkewMs;
  const early = new Counter({
    name: 'ban_list_early_evictions_total',
    help: 'Live ban entries pushed out by capacity before expiry (a security event: raise BAN_CACHE_MAX)',
    registers: registry ? [registry] : [],
  });
  const bans = new BanList({ max: config.banCacheMax, windowMs, logger, now, onEarlyEviction: () => early.inc() });
  return startBanSync({ nats: options.nats, bans, manageStream: options.manageStream, streamReplicas: options.streamReplicas, windowMs, clockSkewMs: config.clockSkewMs, logger, registry, now });
}
