import { createHash, randomBytes } from 'node:crypto';
import { Subjects } from '@ticketing/common/events';
import type { Logger, Queryable } from '@ticketing/common/runtime';
import { enqueueEvent, newEventId } from './outbox.js';

/** How long sessions live, and the clock that judges it (tests freeze it). */
export interface SessionSettings {
  /** A family's absolute lifetime (`REFRESH_TOKEN_TTL`), in ms from its sign-in. */
  absoluteTtlMs: number;
  /** How long a refresh token may go unused (`REFRESH_TOKEN_IDLE_TTL`), in ms. */
  idleTtlMs: number;
  /**
   * How long after a refresh token was rotated presenting it again counts as a race of the same
   * client (two tabs refreshing at once) rather than theft (`REFRESH_REUSE_GRACE`), in ms.
   */
  reuseGraceMs: number;
  /** The clock, in ms since the epoch. */
  now: () => number;
}

/** A refresh token is 32 random bytes, base64url: 256 bits nobody can guess. */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** True when `token` has the form of a refresh token (anything else is refused without a lookup). */
export function isRefreshTokenShaped(token: unknown): token is string {
  return typeof token === 'string' && REFRESH_TOKEN.test(token);
}

/** Only the hash is stored: a copy of the table hands out no session. */
const hashOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** A fresh refresh token and when it stops working (its idle expiry, never after its family's). */
export interface IssuedRefreshToken {
  refreshToken: string;
  familyId: string;
  expiresAt: Date;
}

async function insertToken(tx: Queryable, familyId: string, familyExpiresAtMs: number, settings: SessionSettings): Promise<IssuedRefreshToken> {
  const refreshToken = randomBytes(32).toString('base64url');
  const nowMs = settings.now();
  const expiresAt = new Date(Math.min(nowMs + settings.idleTtlMs, familyExpiresAtMs));
  await tx.query(
    'INSERT INTO refresh_tokens (token_hash, family_id, created_at, idle_expires_at) VALUES ($1, $2, $3, $4)',
    [hashOf(refreshToken), familyId, new Date(nowMs), expiresAt],
  );
  return { refreshToken, familyId, expiresAt };
}

/** Starts a session (a family of refresh tokens) for a user who just signed up or in. */
export async function startSession(tx: Queryable, userId: string, settings: SessionSettings): Promise<IssuedRefreshToken> {
  const nowMs = settings.now();
  const familyExpiresAtMs = nowMs + settings.absoluteTtlMs;
  const { rows } = await tx.query<{ id: string }>(
    'INSERT INTO refresh_families (user_id, created_at, expires_at) VALUES ($1, $2, $3) RETURNING id',
    [userId, new Date(nowMs), new Date(familyExpiresAtMs)],
  );
  return insertToken(tx, rows[0]!.id, familyExpiresAtMs, settings);
}

/** The user a refresh token belongs to, read without locking (to lock the user first); `null` when unknown. */
export async function refreshTokenOwner(db: Queryable, token: string): Promise<string | null> {
  const { rows } = await db.query<{ user_id: string }>(
    'SELECT f.user_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1',
    [hashOf(token)],
  );
  return rows[0]?.user_id ?? null;
}

/** What presenting a refresh token came to. */
export type Rotation =
  /** A new refresh token replaces it. */
  | { kind: 'rotated'; issued: IssuedRefreshToken }
  /** It was rotated a moment ago (within the grace): a new access token, but no new refresh token. */
  | { kind: 'raced'; familyId: string }
  /** It was rotated before: someone else has it. The family is revoked; the caller revokes the user's sessions. */
  | { kind: 'reused'; familyId: string }
  /** Unknown, expired (idle or absolute), revoked, or someone else's. */
  | { kind: 'invalid' };

interface TokenRow {
  family_id: string;
  user_id: string;
  idle_expires_at: Date;
  rotated_at: Date | null;
  family_expires_at: Date;
  revoked_at: Date | null;
}

/**
 * Rotates a refresh token of `userId`, whose row the caller has locked: checks the token and its
 * family, and replaces it. Locks the token and its family, so two presentations of one token are
 * judged one after the other.
 */
export async function rotateRefreshToken(tx: Queryable, userId: string, token: string, settings: SessionSettings): Promise<Rotation> {
  const { rows } = await tx.query<TokenRow>(
    `SELECT t.family_id, f.user_id, t.idle_expires_at, t.rotated_at, f.expires_at AS family_expires_at, f.revoked_at
       FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
      WHERE t.token_hash = $1 FOR UPDATE OF t, f`,
    [hashOf(token)],
  );
  const row = rows[0];
  const nowMs = settings.now();
  if (row === undefined || row.user_id !== userId || row.revoked_at !== null) return { kind: 'invalid' };
  if (nowMs >= row.family_expires_at.getTime() || nowMs >= row.idle_expires_at.getTime()) return { kind: 'invalid' };
  if (row.rotated_at !== null) {
    if (nowMs - row.rotated_at.getTime() <= settings.reuseGraceMs) return { kind: 'raced', familyId: row.family_id };
    await revokeFamily(tx, row.family_id, 'reused');
    return { kind: 'reused', familyId: row.family_id };
  }
  await tx.query('UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1', [hashOf(token), new Date(nowMs)]);
  return { kind: 'rotated', issued: await insertToken(tx, row.family_id, row.family_expires_at.getTime(), settings) };
}

/** Ends one session: its family's refresh tokens stop working. */
export async function revokeFamily(tx: Queryable, familyId: string, reason: string): Promise<void> {
  await tx.query('UPDATE refresh_families SET revoked_at = clock_timestamp(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [familyId, reason]);
}

/** Ends the session a refresh token belongs to, if it is the user's; nothing when it is unknown. */
export async function revokeSessionOf(db: Queryable, token: string): Promise<void> {
  await db.query(
    `UPDATE refresh_families SET revoked_at = clock_timestamp(), revoked_reason = 'signed out'
      WHERE revoked_at IS NULL AND id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`,
    [hashOf(token)],
  );
}

/** Ends every refresh family of the user (a ban; signing out everywhere does more, see `revokeAllSessions`). */
export async function revokeRefreshFamilies(tx: Queryable, userId: string, reason: string): Promise<void> {
  await tx.query('UPDATE refresh_families SET revoked_at = clock_timestamp(), revoked_reason = $2 WHERE user_id = $1 AND revoked_at IS NULL', [userId, reason]);
}

/**
 * Ends every access token of the user issued so far, everywhere: dates the revocation by the
 * database's clock under the user's row lock (held `FOR UPDATE` by the caller, as a ban's is), and
 * queues `auth.user.sessions-revoked` in the same transaction, so every service refuses the user's
 * tokens issued at or before it. Refresh tokens are the caller's to end (see `revokeAllSessions`).
 * Resolves with that instant.
 */
export async function revokeAccessTokens(tx: Queryable, userId: string): Promise<Date> {
  const { rows } = await tx.query<{ id: string; sessions_revoked_at: Date; sessions_version: number }>(
    `UPDATE users SET sessions_revoked_at = clock_timestamp(), sessions_version = sessions_version + 1
      WHERE id = $1 RETURNING id, sessions_revoked_at, sessions_version`,
    [userId],
  );
  const row = rows[0]!;
  await enqueueEvent(tx, {
    subject: Subjects.SessionsRevoked,
    payload: { id: newEventId(), userId: row.id, notBefore: row.sessions_revoked_at.toISOString(), version: row.sessions_version },
  });
  return row.sessions_revoked_at;
}

/** Ends every session of the user: all their refresh families and all their access tokens (see `revokeAccessTokens`). */
export async function revokeAllSessions(tx: Queryable, userId: string, reason: string): Promise<Date> {
  await revokeRefreshFamilies(tx, userId, reason);
  return revokeAccessTokens(tx, userId);
}

/** How long revoked and expired sessions are kept before they are deleted (for audits), in ms. */
export const SESSION_RETENTION_MS = 7 * 86_400_000;

/** Deletes sessions that ended (expired or revoked) more than `SESSION_RETENTION_MS` ago; resolves with how many. */
export async function pruneSessions(db: Queryable, nowMs: number): Promise<number> {
  const before = new Date(nowMs - SESSION_RETENTION_MS);
  const { rows } = await db.query<{ id: string }>(
    'DELETE FROM refresh_families WHERE expires_at < $1 OR revoked_at < $1 RETURNING id',
    [before],
  );
  return rows.length;
}

/**
 * Prunes ended sessions now and then every hour, until stopped. A failure is logged and left to
 * the next hour.
 *
 * @example
 * const pruner = startSessionPruner({ db, logger });
 * await pruner.stop();
 */
export function startSessionPruner(options: { db: Queryable; logger: Logger; intervalMs?: number }): { stop(): Promise<void> } {
  const { db, logger } = options;
  let running: Promise<void> = Promise.resolve();
  const prune = () => {
    running = pruneSessions(db, Date.now())
      .then((deleted) => { if (deleted > 0) logger.debug({ deleted }, 'ended sessions pruned'); })
      .catch((err: unknown) => logger.warn({ err }, 'pruning ended sessions failed; will retry'));
  };
  prune();
  const timer = setInterval(prune, options.intervalMs ?? 3_600_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
