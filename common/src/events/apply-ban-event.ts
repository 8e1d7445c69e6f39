import type { JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { BanApplyResult, BanList } from '../bans/ban-list.js';
import { isKnownSubject, MalformedEventError, parseAuthEvent, readRefusalEssentials, Subjects } from './auth-events.js';
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

/** What an applied event did, for its audit line. */
interface Applied {
  result: BanApplyResult;
  audit: { event: string; fields: Record<string, unknown> };
}

const AUDIT_EVENTS: Readonly<Record<string, string>> = {
  [Subjects.UserBanned]: 'ban.received',
  [Subjects.UserUnbanned]: 'unban.received',
  [Subjects.SessionsRevoked]: 'sessions_revoked.received',
};

/**
 * Applies one event from the stream to the ban list and counts it; true when it reached the list.
 * An unknown subject is ignored, a malformed event is logged, counted and skipped, unless it is a
 * ban whose essentials can still be read. Once the replay has caught up (`live`), each event is an
 * audit line at info (its id, the user, the date, what it did to the list); replayed ones are debug.
 */
export function applyBanEvent(msg: JsMsg, target: BanEventTarget, options: { live: boolean } = { live: true }): boolean {
  if (!isKnownSubject(msg.subject)) {
    target.logger.debug({ subject: msg.subject }, 'ignoring an auth event this version does not know');
    return false;
  }
  const applied = applyOrSalvage(msg, target);
  if (applied === undefined) return false;
  target.metrics.applied.inc({ subject: msg.subject, result: applied.result });
  // A replay applies every event in the window, each logged at debug: build its line only if it is logged.
  const level = options.live ? 'info' : 'debug';
  if (!target.logger.isLevelEnabled(level)) return true;
  const line = { audit: applied.audit.event, ...applied.audit.fields, seq: msg.seq, result: applied.result };
  target.logger[level](line, options.live ? `${msg.subject} ${applied.result}` : `${msg.subject} ${applied.result} (replay)`);
  return true;
}

/** Applies the event as parsed, or what can be salvaged of a malformed one; undefined when nothing can. */
function applyOrSalvage(msg: JsMsg, target: BanEventTarget): Applied | undefined {
  try {
    return applyWellFormed(msg, target);
  } catch (err) {
    if (!(err instanceof MalformedEventError)) throw err;
    return salvageMalformed(msg, err, target);
  }
}

/** Parses the event (throwing a {@link MalformedEventError} when it breaks the contract) and applies it. */
function applyWellFormed(msg: JsMsg, target: BanEventTarget): Applied {
  const event = parseAuthEvent(msg.subject, msg.data);
  const audit = (fields: Record<string, unknown>) => ({ event: AUDIT_EVENTS[event.subject]!, fields: { eventId: event.payload.id, ...fields } });
  switch (event.subject) {
    case Subjects.UserBanned: {
      const { userId, bannedAt, version } = event.payload;
      return { result: applyRefusal(msg, Subjects.UserBanned, { userId, at: bannedAt, version }, target), audit: audit({ userId, bannedAt }) };
    }
    case Subjects.SessionsRevoked: {
      const { userId, notBefore, version } = event.payload;
      return { result: applyRefusal(msg, Subjects.SessionsRevoked, { userId, at: notBefore, version }, target), audit: audit({ userId, notBefore }) };
    }
    case Subjects.UserUnbanned: {
      const { userId, unbannedAt, version } = event.payload;
      return { result: target.bans.unban({ userId, unbannedAt: new Date(unbannedAt), version }), audit: audit({ userId, unbannedAt }) };
    }
  }
}

/**
 * Counts a malformed event, and applies it when it is a ban or a revocation whose userId, date and
 * version are sound.
 */
function salvageMalformed(msg: JsMsg, err: MalformedEventError, target: BanEventTarget): Applied | undefined {
  target.metrics.malformed.inc();
  const essentials = readRefusalEssentials(msg.subject, msg.data);
  const fields = { audit: 'auth_event.malformed', subject: msg.subject, seq: msg.seq, problem: err.message };
  if (essentials === undefined) {
    target.logger.warn(fields, 'skipping a malformed auth event');
    return undefined;
  }
  // Losing a ban over a field enforcement does not use would fail open.
  target.logger.warn(fields, 'applying a ban or revocation whose other fields break the contract');
  const subject = msg.subject as typeof Subjects.UserBanned | typeof Subjects.SessionsRevoked;
  return {
    result: applyRefusal(msg, subject, essentials, target),
    audit: { event: AUDIT_EVENTS[subject]!, fields: { userId: essentials.userId, at: essentials.at, salvaged: true } },
  };
}

/** Applies a ban or a revocation of sessions, dated as `datedRefusal` says. */
function applyRefusal(
  msg: JsMsg,
  subject: typeof Subjects.UserBanned | typeof Subjects.SessionsRevoked,
  event: { userId: string; at: string; version: number },
  target: BanEventTarget,
): BanApplyResult {
  const { at, windowFrom } = datedRefusal(msg, event.at, target);
  if (subject === Subjects.UserBanned) return target.bans.ban({ userId: event.userId, bannedAt: at, version: event.version, windowFrom });
  return target.bans.revokeSessions({ userId: event.userId, notBefore: at, windowFrom });
}

/**
 * A ban (or a revocation) is never dropped or weakened for its date. One dated more than `CLOCK_SKEW` after the
 * stream stored it comes from a clock running ahead (whose tokens are dated by the same clock,
 * so it still refuses every token up to its own date), or is forged: it is applied as dated,
 * warned about and counted, and its entry's lifetime counts from no later than one window from
 * now, so a far-future date cannot keep an entry for long. The bound is this service's clock, not
 * the stream's: that is the clock that judges a token's expiry, and a NATS server whose clock runs
 * behind must not shorten a ban.
 */
function datedRefusal(msg: JsMsg, dated: string, target: BanEventTarget): { at: Date; windowFrom: Date } {
  const at = new Date(dated);
  const storedAtMs = Math.floor(msg.info.timestampNanos / 1e6);
  if (at.getTime() > storedAtMs + target.clockSkewMs) {
    target.metrics.clamped.inc();
    target.logger.warn({ audit: 'auth_event.clamped', subject: msg.subject, seq: msg.seq, dated, storedAt: new Date(storedAtMs).toISOString() },
      'event dated more than CLOCK_SKEW after the stream stored it; applied as dated (check the auth database clock)');
  }
  return { at, windowFrom: new Date(Math.max(storedAtMs, target.now()) + target.windowMs) };
}
