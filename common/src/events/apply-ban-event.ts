import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { BanApplyResult, BanList } from '../bans/ban-list.js';
import { isKnownSubject, MalformedEventError, parseAuthEvent, readBanEssentials, Subjects } from './auth-events.js';
import type { BanSyncMetrics } from './ban-sync-metrics.js';

/** What applying an event needs: the list, where to count and log, and the sync's window and skew. */
export interface BanEventTarget {
  bans: BanList;
  metrics: BanSyncMetrics;
  logger: Logger;
  /** How long after a ban its entry is needed, in ms. */
  windowMs: number;
  /** How far after the stream stored it a ban may be dated before it is warned about, in ms. */
  clockSkewMs: number;
  /** This service's clock, in ms since the epoch: the one that judges whether a token expired. */
  now: () => number;
}

/**
 * Applies one event from the stream to the ban list and counts it; true when it reached the list.
 * An unknown subject is ignored, a malformed event is logged, counted and skipped, unless it is a
 * ban whose essentials can still be read.
 */
export function applyBanEvent(msg: JsMsg, target: BanEventTarget): boolean {
  if (!isKnownSubject(msg.subject)) {
    target.logger.debug({ subject: msg.subject }, 'ignoring an auth event this version does not know');
    return false;
  }
  const result = applyOrSalvage(msg, target);
  if (result === undefined) return false;
  target.metrics.applied.inc({ subject: msg.subject, result });
  target.logger.debug({ subject: msg.subject, seq: msg.seq, result }, 'ban event');
  return true;
}

/** Applies the event as parsed, or what can be salvaged of a malformed one; undefined when nothing can. */
function applyOrSalvage(msg: JsMsg, target: BanEventTarget): BanApplyResult | undefined {
  try {
    return applyWellFormed(msg, target);
  } catch (err) {
    if (!(err instanceof MalformedEventError)) throw err;
    return salvageMalformed(msg, err, target);
  }
}

/** Parses the event (throwing a {@link MalformedEventError} when it breaks the contract) and applies it. */
function applyWellFormed(msg: JsMsg, target: BanEventTarget): BanApplyResult {
  const event = parseAuthEvent(msg.subject, msg.data);
  if (event.subject === Subjects.UserBanned) return target.bans.ban(datedBan(msg, event.payload, target));
  const { userId, unbannedAt, version } = event.payload;
  return target.bans.unban({ userId, unbannedAt: new Date(unbannedAt), version });
}

/** Counts a malformed event, and applies it when it is a ban whose userId, bannedAt and version are sound. */
function salvageMalformed(msg: JsMsg, err: MalformedEventError, target: BanEventTarget): BanApplyResult | undefined {
  target.metrics.malformed.inc();
  const essentials = msg.subject === Subjects.UserBanned ? readBanEssentials(msg.data) : undefined;
  if (essentials === undefined) {
    target.logger.warn({ subject: msg.subject, seq: msg.seq, problem: err.message }, 'skipping a malformed auth event');
    return undefined;
  }
  // Losing a ban over a field enforcement does not use would fail open.
  target.logger.warn({ subject: msg.subject, seq: msg.seq, problem: err.message }, 'applying a ban whose other fields break the contract');
  return target.bans.ban(datedBan(msg, essentials, target));
}

/**
 * A ban is never dropped or weakened for its date. One dated more than `CLOCK_SKEW` after the
 * stream stored it comes from a clock running ahead (whose tokens are dated by the same clock,
 * so it still refuses every token up to its own date), or is forged: it is applied as dated,
 * warned about and counted, and its entry's lifetime counts from no later than one window from
 * now, so a far-future date cannot keep an entry for long. The bound is this service's clock, not
 * the stream's: that is the clock that judges a token's expiry, and a NATS server whose clock runs
 * behind must not shorten a ban.
 */
function datedBan(msg: JsMsg, payload: { userId: string; bannedAt: string; version: number }, target: BanEventTarget) {
  const bannedAt = new Date(payload.bannedAt);
  const storedAtMs = Math.floor(msg.info.timestampNanos / 1e6);
  if (bannedAt.getTime() > storedAtMs + target.clockSkewMs) {
    target.metrics.clamped.inc();
    target.logger.warn({ subject: msg.subject, seq: msg.seq, bannedAt: payload.bannedAt, storedAt: new Date(storedAtMs).toISOString() },
      'ban dated more than CLOCK_SKEW after the stream stored it; applied as dated (check the auth database clock)');
  }
  return { userId: payload.userId, bannedAt, version: payload.version, windowFrom: new Date(Math.max(storedAtMs, target.now()) + target.windowMs) };
}
