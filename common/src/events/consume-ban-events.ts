import { jetstream, jetstreamManager, type Consumer, type ConsumerMessages, type JsMsg, type OrderedConsumerOptions, type StreamConfig } from '@nats-io/jetstream';
import { AUTH_STREAM, Subjects } from './auth-events.js';
import { applyBanEvent, type BanEventTarget } from './apply-ban-event.js';
import type { BanSyncControl } from './ban-sync-control.js';
import type { BanSyncProgress } from './ban-sync-progress.js';
import { authStreamInfo, authStreamShortfalls, ensureAuthStream, type NatsClient, type NatsConnection } from './nats.js';

/**
 * Messages asked for per pull. A replay reads the whole window (100 000 bans is about 25 MB):
 * larger pulls mean fewer round trips to the server, at the cost of that many messages buffered.
 */
const PULL_BATCH = 4_096;

/** What a ban sync consumes from and applies to; fixed for its life. */
export interface BanSyncContext extends BanEventTarget {
  nats: NatsClient;
  /**
   * Whether this sync creates the `AUTH` stream and keeps its limits (auth's, the only service
   * NATS lets change it), or waits for it to exist and reads it as it is (every other service's).
   */
  manageStream: boolean;
  /** With `manageStream`: the replicas the stream is made with, or raised to. */
  streamReplicas: number;
  /**
   * How often the consumer's delivered position is compared with the last event applied, in ms: a
   * position ahead of it that does not move means someone else took events meant for this sync.
   */
  checkIntervalMs: number;
  /** The clock, in milliseconds since the epoch. */
  now: () => number;
}

/** Why a pass ended early, and whether the next one should start at once. */
interface Interruption {
  resumeAtOnce: boolean;
}

/**
 * One consume pass: from where the sync left off (or the start of the window) until stopped or
 * interrupted; true when the next pass should start at once (a reconnect, a reset consumer, events
 * taken by someone else), false when after a pause.
 */
export async function consumeBanEvents(context: BanSyncContext, progress: BanSyncProgress, control: BanSyncControl): Promise<boolean> {
  const nc = await context.nats.connection();
  const stream = await streamToConsume(nc, context, progress);
  if (stream === 'missing') return false;
  const lastStoredMs = stream.lastStoredMs;
  const { consumer, startedAfter, messages } = await openMessages(nc, startFrom(context, progress, lastStoredMs), context, progress);
  control.follow(messages);
  const interruption: Interruption = { resumeAtOnce: false };
  const unsubscribe = stopOnReconnect(context.nats, messages, interruption);
  stopOnLostConsumer(messages, context, interruption);
  const watchdog = watchForTakenEvents({ consumer, startedAfter, messages }, context, progress, interruption);
  try {
    if (control.stopped) messages.stop();
    await applyEach(messages, context, progress);
  } finally {
    unsubscribe();
    clearInterval(watchdog);
  }
  return interruption.resumeAtOnce;
}

/**
 * The AUTH stream to consume: made sure of (by auth), or looked up (by everyone else, who waits
 * while it is missing). The position is forgotten when the stream was made anew since the last
 * pass. Resolves with when the stream stored its last message, by the NATS server's clock
 * (`undefined` when it holds none).
 */
async function streamToConsume(nc: NatsConnection, context: BanSyncContext, progress: BanSyncProgress): Promise<{ lastStoredMs: number | undefined } | 'missing'> {
  const jsm = await jetstreamManager(nc);
  const info = context.manageStream ? await ensureAuthStream(jsm, { windowMs: context.windowMs, replicas: context.streamReplicas }) : await authStreamInfo(jsm);
  if (info === undefined) {
    if (progress.noteStreamMissing(true)) context.logger.warn('the AUTH stream does not exist yet; waiting for auth to create it (ban list not caught up)');
    return 'missing';
  }
  if (progress.noteStreamMissing(false)) context.logger.info('the AUTH stream exists; replaying');
  if (!context.manageStream) warnOfShortfalls(info.config, context, progress);
  if (progress.noteStream(info.created)) context.logger.warn('the AUTH stream was recreated; replaying the recent window');
  const lastStoredMs = info.state.messages > 0 ? Date.parse(info.state.last_ts) : Number.NaN;
  return { lastStoredMs: Number.isFinite(lastStoredMs) ? lastStoredMs : undefined };
}

/** A stream this service may not change but that could lose bans it needs: said once per new finding. */
function warnOfShortfalls(config: StreamConfig, context: BanSyncContext, progress: BanSyncProgress): void {
  const shortfalls = authStreamShortfalls(config, { windowMs: context.windowMs }).join('; ');
  if (progress.noteShortfalls(shortfalls) && shortfalls !== '') {
    context.logger.warn({ shortfalls }, 'the AUTH stream is not as designed and only auth may change it: bans may be lost from it (auth corrects it when it starts)');
  }
}

/**
 * Where a pass starts. After an interruption, resume right after the last event seen; the first
 * time, replay the window, reaching back a clock skew further. The start is compared with the
 * NATS server's clock, so it counts back from the earlier of this service's time and the time the
 * stream stored its last message: a NATS clock running behind then replays more, never less.
 */
function startFrom(context: BanSyncContext, progress: BanSyncProgress, lastStoredMs: number | undefined): Partial<OrderedConsumerOptions> {
  if (progress.lastSeq > 0) return { opt_start_seq: progress.lastSeq + 1 };
  const fromMs = Math.min(context.now(), lastStoredMs ?? Number.POSITIVE_INFINITY);
  return { opt_start_time: new Date(fromMs - context.windowMs - context.clockSkewMs).toISOString() };
}

/** An ordered consumer of the user events from `from`, consuming; the sync has caught up at once when none is pending. */
async function openMessages(
  nc: NatsConnection, from: Partial<OrderedConsumerOptions>, context: BanSyncContext, progress: BanSyncProgress,
): Promise<{ consumer: Consumer; startedAfter: number; messages: ConsumerMessages }> {
  const consumer = await jetstream(nc).consumers.get(AUTH_STREAM, { filter_subjects: Subjects.UserEvents, ...from });
  const info = await consumer.info(true);
  if (info.num_pending === 0) markCaughtUp(context, progress);
  return { consumer, startedAfter: info.delivered.stream_seq, messages: await consumer.consume({ max_messages: PULL_BATCH, expires: 5_000 }) };
}

/**
 * A restarted server has lost this ephemeral consumer: on a reconnect, stop it so that a fresh one
 * starts after the last event seen. `happened` says whether that is why it stopped.
 */
function stopOnReconnect(nats: NatsClient, messages: ConsumerMessages, interruption: Interruption): () => void {
  return nats.onReconnect(() => {
    interruption.resumeAtOnce = true;
    messages.stop();
  });
}

/**
 * Statuses after which this consumer may deliver nothing more, and what they mean. An ordered
 * consumer lives on one server (the stream's leader when it was made): when that node dies, the
 * client misses heartbeats, finds the consumer gone, or makes it again itself, with the first
 * pass's start time beside a start sequence, which the server refuses.
 */
const LOST_CONSUMER: Readonly<Record<string, string>> = {
  reset: 'reset (a gap in delivery, or missed heartbeats)',
  heartbeats_missed: 'missed its heartbeats (its server may be gone)',
  consumer_not_found: 'is gone (its server may have died)',
  ordered_consumer_recreated: 'was made again by the client',
};

/**
 * Ends the pass when the consumer is lost or reset, so that the next one starts afresh after the
 * last event applied. A lost stream (or consumer): after the retry pause, since the server may
 * still be removing the old stream's files, and a stream made again in that moment can lose what
 * is written to it. A reset (the client saw a gap in delivery, or missed heartbeats): at once,
 * rather than let the client recreate the consumer itself, which it does with the start time of the
 * first pass beside a start sequence, a pair the server refuses, so that no event would come again.
 */
function stopOnLostConsumer(messages: ConsumerMessages, context: BanSyncContext, interruption: Interruption): void {
  void (async () => {
    for await (const status of messages.status()) {
      if (status.type === 'stream_not_found' || status.type === 'consumer_deleted') {
        messages.stop();
        break;
      }
      const lost = LOST_CONSUMER[status.type];
      if (lost !== undefined) {
        context.logger.warn({ status: status.type }, `ban sync consumer ${lost}; starting a fresh one after the last event applied`);
        interruption.resumeAtOnce = true;
        messages.stop();
        break;
      }
    }
  })().catch((err: unknown) => {
    context.logger.warn({ err: (err as Error).message }, 'ban sync status stream failed; restarting the consumer');
    messages.stop();
  });
}

/**
 * Compares, every `checkIntervalMs`, how far the consumer has delivered with the last event this
 * sync applied (or where the consumer started). Ahead, twice running with nothing applied between, means the events went to
 * someone else pulling from this consumer (a holder of the same NATS user who learnt its name): the
 * pass ends and the next one starts at once, after the last event applied, so the events taken are
 * delivered again, here.
 */
function watchForTakenEvents(
  pass: { consumer: Consumer; startedAfter: number; messages: ConsumerMessages }, context: BanSyncContext, progress: BanSyncProgress, interruption: Interruption,
): ReturnType<typeof setInterval> {
  const { consumer, startedAfter, messages } = pass;
  let suspectedAt: number | undefined;
  const timer = setInterval(() => {
    void consumer.info().then((info) => {
      // A consumer that starts by time counts the messages before its start as delivered.
      const ahead = info.delivered.stream_seq > Math.max(progress.lastSeq, startedAfter);
      if (!ahead) {
        suspectedAt = undefined;
        return;
      }
      if (suspectedAt !== progress.lastSeq) {
        suspectedAt = progress.lastSeq;
        return;
      }
      context.metrics.taken.inc();
      context.logger.error({ delivered: info.delivered.stream_seq, applied: progress.lastSeq },
        'ban events were delivered from this sync\'s consumer to someone else (another client with this service\'s NATS user?); consuming them again');
      interruption.resumeAtOnce = true;
      messages.stop();
    }, (err: unknown) => context.logger.debug({ err: (err as Error).message }, 'ban sync consumer info failed'));
  }, context.checkIntervalMs);
  timer.unref();
  return timer;
}

/** Applies each event as it comes, keeping the position, the lag and whether the sync has caught up. */
async function applyEach(messages: ConsumerMessages, context: BanSyncContext, progress: BanSyncProgress): Promise<void> {
  for await (const msg of messages) {
    progress.lastSeq = msg.seq;
    if (applyBanEvent(msg, context, { live: progress.caughtUp })) progress.lastEventLagSeconds = lagSeconds(msg, context.now());
    if (msg.info.pending === 0) markCaughtUp(context, progress);
  }
}

/** Seconds from when the stream stored `msg` to `nowMs` (0 if the clocks disagree). */
function lagSeconds(msg: JsMsg, nowMs: number): number {
  return Math.max(0, nowMs - msg.info.timestampNanos / 1e6) / 1000;
}

function markCaughtUp(context: BanSyncContext, progress: BanSyncProgress): void {
  if (progress.markCaughtUp()) context.logger.info({ bans: context.bans.size }, 'ban list caught up');
}
