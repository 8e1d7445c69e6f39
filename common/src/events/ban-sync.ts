import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { Counter, Gauge, type Registry } from 'prom-client';
import { BanList } from '../bans/ban-list.js';
import { AUTH_STREAM, isKnownSubject, MalformedEventError, parseAuthEvent, readBanEssentials, Subjects } from './auth-events.js';
import type { Logger } from 'pino';
import { ensureAuthStream, type NatsClient } from './nats.js';

export interface BanSync {
  readonly bans: BanList;
  /** Resolves once the replay of recent events has caught up with the stream. */
  readonly ready: Promise<void>;
  isCaughtUp(): boolean;
  stop(): Promise<void>;
}

export interface BanSyncOptions {
  nats: NatsClient;
  bans: BanList;
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
  now?: () => number;
}

function counters(registry: Registry | undefined, bans: BanList, state: { caughtUp: boolean; lagSeconds: number }) {
  const registers = registry ? [registry] : [];
  new Gauge({ name: 'ban_list_size', help: 'Entries in the in-memory ban list', registers, collect() { this.set(bans.size); } });
  new Gauge({ name: 'ban_sync_caught_up', help: '1 once the replay of recent ban events has caught up', registers, collect() { this.set(state.caughtUp ? 1 : 0); } });
  new Gauge({
    name: 'ban_sync_last_event_lag_seconds',
    help: 'Time from publish to apply of the last ban event applied',
    registers,
    collect() { this.set(state.lagSeconds); },
  });
  return {
    applied: new Counter({ name: 'ban_events_applied_total', help: 'Ban events taken from the stream, by subject and result', labelNames: ['subject', 'result'] as const, registers }),
    malformed: new Counter({ name: 'ban_events_malformed_total', help: 'Ban events skipped because their payload broke the contract', registers }),
    clamped: new Counter({ name: 'ban_events_clamped_total', help: 'Bans dated more than CLOCK_SKEW after the stream stored them: applied as dated, their entry kept at most a window past the stream time', registers }),
  };
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
  const { nats, bans, windowMs, logger } = options;
  const now = options.now ?? Date.now;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const clockSkewMs = options.clockSkewMs ?? 30_000;
  const state = { caughtUp: false, lagSeconds: 0 };
  const metrics = counters(options.registry, bans, state);
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => { markReady = resolve; });
  let lastSeq = 0;
  let streamCreated: string | undefined;

  function caughtUp(): void {
    if (state.caughtUp) return;
    state.caughtUp = true;
    logger.info({ bans: bans.size }, 'ban list caught up');
    markReady();
  }

  /**
   * A ban is never dropped or weakened for its date. One dated more than `CLOCK_SKEW` after the
   * stream stored it comes from a clock running ahead (whose tokens are dated by the same clock,
   * so it still refuses every token up to its own date), or is forged: it is applied as dated,
   * warned about and counted, and its entry's lifetime counts from no later than the stream time
   * plus one window, so a far-future date cannot keep an entry for long.
   */
  function banOf(msg: JsMsg, payload: { userId: string; bannedAt: string; version: number }) {
    const bannedAt = new Date(payload.bannedAt);
    const storedAtMs = Math.floor(msg.info.timestampNanos / 1e6);
    if (bannedAt.getTime() > storedAtMs + clockSkewMs) {
      metrics.clamped.inc();
      logger.warn({ subject: msg.subject, seq: msg.seq, bannedAt: payload.bannedAt, storedAt: new Date(storedAtMs).toISOString() },
        'ban dated more than CLOCK_SKEW after the stream stored it; applied as dated (check the auth database clock)');
    }
    return { userId: payload.userId, bannedAt, version: payload.version, windowFrom: new Date(storedAtMs + windowMs) };
  }

  function apply(msg: JsMsg): void {
    if (!isKnownSubject(msg.subject)) {
      logger.debug({ subject: msg.subject }, 'ignoring an auth event this version does not know');
      return;
    }
    let result: string;
    try {
      const event = parseAuthEvent(msg.subject, msg.data);
      const { userId, version } = event.payload;
      if (event.subject === Subjects.UserBanned) {
        result = bans.ban(banOf(msg, event.payload));
      } else {
        result = bans.unban({ userId, unbannedAt: new Date(event.payload.unbannedAt), version });
      }
    } catch (err) {
      if (!(err instanceof MalformedEventError)) throw err;
      metrics.malformed.inc();
      const essentials = msg.subject === Subjects.UserBanned ? readBanEssentials(msg.data) : undefined;
      if (essentials === undefined) {
        logger.warn({ subject: msg.subject, seq: msg.seq, problem: err.message }, 'skipping a malformed auth event');
        return;
      }
      // Losing a ban over a field enforcement does not use would fail open.
      logger.warn({ subject: msg.subject, seq: msg.seq, problem: err.message }, 'applying a ban whose other fields break the contract');
      result = bans.ban(banOf(msg, essentials));
    }
    metrics.applied.inc({ subject: msg.subject, result });
    state.lagSeconds = Math.max(0, now() - msg.info.timestampNanos / 1e6) / 1000;
    logger.debug({ subject: msg.subject, seq: msg.seq, result }, 'ban event');
  }

  /** Consumes until stopped or interrupted; true when a reconnect interrupted it (resume at once, else after a pause). */
  async function consumeOnce(): Promise<boolean> {
    const nc = await nats.connection();
    // A stream made anew (its store lost) numbers from 1 again: replay the window instead of
    // resuming at a sequence that would skip its first events.
    const { created } = await ensureAuthStream(await jetstreamManager(nc), { windowMs });
    if (streamCreated !== undefined && created !== streamCreated && lastSeq > 0) {
      logger.warn('the AUTH stream was recreated; replaying the recent window');
      lastSeq = 0;
    }
    streamCreated = created;
    // After an interruption, resume right after the last event seen; the first time, replay the window.
    const from: Partial<OrderedConsumerOptions> = lastSeq > 0
      ? { opt_start_seq: lastSeq + 1 }
      : { opt_start_time: new Date(now() - windowMs - clockSkewMs).toISOString() };
    const consumer = await jetstream(nc).consumers.get(AUTH_STREAM, { filter_subjects: Subjects.UserEvents, ...from });
    if ((await consumer.info(true)).num_pending === 0) caughtUp();
    messages = await consumer.consume({ max_messages: 512, expires: 5_000 });
    const current = messages;
    // A restarted server has lost this ephemeral consumer; start a fresh one after the last event seen.
    let restartNow = false;
    const unsubscribe = nats.onReconnect(() => {
      restartNow = true;
      current.stop();
    });
    // The client would recreate the consumer on a recreated stream by sequence; start over here
    // instead, after the retry pause: the server may still be removing the old stream's files, and
    // a stream made again in that moment can lose what is written to it.
    void (async () => {
      for await (const status of current.status()) {
        if (status.type === 'stream_not_found' || status.type === 'consumer_deleted') {
          current.stop();
          break;
        }
      }
    })().catch((err: unknown) => {
      logger.warn({ err: (err as Error).message }, 'ban sync status stream failed; restarting the consumer');
      current.stop();
    });
    try {
      if (stopped) current.stop();
      for await (const msg of current) {
        lastSeq = msg.seq;
        apply(msg);
        if (msg.info.pending === 0) caughtUp();
      }
    } finally {
      unsubscribe();
    }
    return restartNow;
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        if (await consumeOnce()) continue;
      } catch (err) {
        if (stopped) break;
        logger.warn({ err: (err as Error).message }, 'ban sync interrupted; resuming');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryDelayMs);
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }
  // run() catches everything inside its loop; anything escaping it is a bug worth a loud line.
  const running = run().catch((err: unknown) => logger.error({ err }, 'ban sync stopped by an unexpected error; bans are no longer received'));

  return {
    bans,
    ready,
    isCaughtUp: () => state.caughtUp,
    async stop() {
      stopped = true;
      messages?.stop();
      wake?.();
      // Not awaiting `running`: it may be waiting for a connection that closing NATS will refuse.
      void running;
    },
  };
}

export interface ServiceBanSyncOptions {
  /** The service's `BAN_CACHE_MAX`, `ACCESS_TOKEN_TTL` and `CLOCK_SKEW`. */
  config: { banCacheMax: number; accessTokenTtlMs: number; clockSkewMs: number };
  nats: NatsClient;
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
  return startBanSync({ nats: options.nats, bans, windowMs, clockSkewMs: config.clockSkewMs, logger, registry, now });
}
