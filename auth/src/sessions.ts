import { createHash, randomBytes } from 'node:crypto';
import { Subjects } from '@ticketing/common/events';
import type { Logger, Queryable } from '@ticketing/common/runtime';
import { enqueueEvent, newEventId } from './outbox.js';
import { databaseNow } from './users.js';

/** How long sessions live, and the clock that judges it. */
export interface SessionSettings {
  /** A family's absolute lifetime (`REFRESH_TOKEN_TTL`), in ms from its sign-in. */
  absoluteTtlMs: number;
  /** How long a refresh token may go unused (`REFRESH_TOKEN_IDLE_TTL`), in ms. */
  idleTtlMs: number;
  /**
   * A clock in ms since the epoch, for tests that freeze it. Unset: the database's clock, which
   * every auth replica shares, so that no replica's own clock lengthens a session.
   */
  now?: () => number;
}

/** The time sessions are judged by: the test's clock, or the database's. */
async function nowMs(tx: Queryable, settings: SessionSettings): Promise<number> {
  return settings.now?.() ?? (await databaseNow(tx)).getTime();
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
  expiresAt: Date;
}

async function insertToken(tx: Queryable, familyId: string, familyExpiresAtMs: number, atMs: number, settings: SessionSettings): Promise<IssuedRefreshToken & { hash: Buffer }> {
  const refreshToken = randomBytes(32).toString('base64url');
  const hash = hashOf(refreshToken);
  const expiresAt = new Date(Math.min(atMs + settings.idleTtlMs, familyExpiresAtMs));
  await tx.query(
    'INSERT INTO refresh_tokens (token_hash, family_id, created_at, idle_expires_at) VALUES ($1, $2, $3, $4)',
    [hash, familyId, new Date(atMs), expiresAt],
  );
  return { refreshToken, expiresAt, hash };
}

/** Starts a session (a family of refresh tokens) for a user who just signed up or in. */
export async function startSession(tx: Queryable, userId: string, settings: SessionSettings): Promise<IssuedRefreshToken> {
  const atMs = await nowMs(tx, settings);
  const familyExpiresAtMs = atMs + settings.absoluteTtlMs;
  const { rows } = await tx.query<{ id: string }>(
    'INSERT INTO refresh_families (user_id, created_at, expires_at) VALUES ($1, $2, $3) RETURNING id',
    [userId, new Date(atMs), new Date(familyExpiresAtMs)],
  );
  const { hash: _hash, ...issued } = await insertToken(tx, rows[0]!.id, familyExpiresAtMs, atMs, settings);
  return issued;
}

/** The user a refresh token belongs to, read without locking (to lock the user first); `null` when unknown. */
export async function refreshTokenOwner(db: Queryable, token: string): Promise<string | null> {
  const { rows } = await db.query<{ user_id: string }>(
    'SELECT f.user_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = $1',
    [hashOf(token)],
  );
  return rows[0]?.user_id ?? null;
}

interface TokenRow {
  family_id: string;
  user_id: string;
  idle_expires_at: Date;
  rotated_at: Date | null;
  replaced_by: Buffer | null;
  family_expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

/**
 * What a presented refresh token is, its row and its family's locked:
 * - `current`: the newest of a live session;
 * - `superseded`: replaced by a token nobody has used yet (its answer was lost, or two tabs
 *   refreshed at once): the same client, most likely;
 * - `reused`: replaced by a token that has been used: two parties hold the session;
 * - `ended`: the session was revoked or has expired, or the token is unknown or not the user's.
 */
type Standing =
  | { kind: 'current' | 'superseded'; row: TokenRow; atMs: number }
  | { kind: 'reused'; row: TokenRow }
  | { kind: 'ended'; spentBeforeSignout: boolean };

async function standingOf(tx: Queryable, userId: string | undefined, token: string, settings: SessionSettings): Promise<Standing> {
  const { rows } = await tx.query<TokenRow>(
    `SELECT t.family_id, f.user_id, t.idle_expires_at, t.rotated_at, t.replaced_by, f.expires_at AS family_expires_at, f.revoked_at, f.revoked_reason
       FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
      WHERE t.token_hash = $1 FOR UPDATE OF t, f`,
    [hashOf(token)],
  );
  const row = rows[0];
  if (row === undefined || (userId !== undefined && row.user_id !== userId)) return { kind: 'ended', spentBeforeSignout: false };
  if (row.revoked_at !== null) {
    // A spent token of a session someone signed out: whoever signed out may have been a thief
    // covering their tracks, so it counts as reuse.
    return { kind: 'ended', spentBeforeSignout: row.rotated_at !== null && row.revoked_reason === 'signed out' };
  }
  const atMs = await nowMs(tx, settings);
  if (atMs >= row.family_expires_at.getTime() || atMs >= row.idle_expires_at.getTime()) return { kind: 'ended', spentBeforeSignout: false };
  if (row.rotated_at === null) return { kind: 'current', row, atMs };
  const { rows: successors } = await tx.query<{ rotated_at: Date | null }>(
    'SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [row.replaced_by],
  );
  return successors[0]?.rotated_at === null ? { kind: 'superseded', row, atMs } : { kind: 'reused', row };
}

/** What presenting a refresh token came to. */
export type Rotation =
  /** A new refresh token replaces it. */
  | { kind: 'rotated'; issued: IssuedRefreshToken }
  /** It had been replaced by a token that was used since: someone else has it. The family is revoked; the caller revokes the user's access tokens. */
  | { kind: 'reused'; familyId: string }
  /** Unknown, expired (idle or absolute), revoked, or someone else's; `reused` when it was spent before its session was signed out. */
  | { kind: 'invalid'; reused: boolean };

/**
 * Rotates a refresh token of `userId`, whose row the caller has locked: checks the token and its
 * family, and replaces it, locking the rows so that two presentations of one token are judged one
 * after the other. A token replaced by one that nobody has used is replaced again (and so is its
 * unused replacement, which then leads to the new one): a lost answer, or two tabs refreshing at
 * once, is not theft. A token replaced by one that was used is: its family is revoked.
 */
export async function rotateRefreshToken(tx: Queryable, userId: string, token: string, settings: SessionSettings): Promise<Rotation> {
  const standing = await standingOf(tx, userId, token, settings);
  if (standing.kind === 'ended') return { kind: 'invalid', reused: standing.spentBeforeSignout };
  const { row } = standing;
  if (standing.kind === 'reused') {
    await revokeFamily(tx, row.family_id, 'reused');
    return { kind: 'reused', familyId: row.family_id };
  }
  const next = await insertToken(tx, row.family_id, row.family_expires_at.getTime(), standing.atMs, settings);
  // The token presented is spent and leads to the new one. In a repeat, so do its unused
  // replacement and every other token that led there: with three tabs at once, the first tab's
  // token (replaced by the second's) must not look stolen once the third has spent the second's.
  // The user's row lock, which the caller holds, keeps two rotations of the family apart.
  await tx.query(
    standing.kind === 'superseded'
      ? 'UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, $3), replaced_by = $2 WHERE token_hash = ANY($1) OR (family_id = $4 AND replaced_by = $5)'
      : 'UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, $3), replaced_by = $2 WHERE token_hash = ANY($1)',
    standing.kind === 'superseded'
      ? [[hashOf(token), row.replaced_by], next.hash, new Date(standing.atMs), row.family_id, row.replaced_by]
      : [[hashOf(token)], next.hash, new Date(standing.atMs)],
  );
  const { hash: _hash, ...issued } = next;
  return { kind: 'rotated', issued };
}

/** Ends one session: its family's refresh tokens stop working. */
async function revokeFamily(tx: Queryable, familyId: string, reason: string): Promise<void> {
  await tx.query('UPDATE refresh_families SET revoked_at = clock_timestamp(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [familyId, reason]);
}

/**
 * Signing out with a refresh token: ends its session, and resolves `ended`; `reused` when the
 * token had been replaced by one that was used since (the session is revoked as stolen, and the
 * caller revokes the user's access tokens); `unknown` for a token that ends nothing.
 */
export async function endSessionOf(tx: Queryable, token: string, settings: SessionSettings): Promise<{ kind: 'ended' | 'reused'; userId: string } | { kind: 'unknown' }> {
  const standing = await standingOf(tx, undefined, token, settings);
  if (standing.kind === 'ended') return { kind: 'unknown' };
  const reused = standing.kind === 'reused';
  await revokeFamily(tx, standing.row.family_id, reused ? 'reused' : 'signed out');
  return { kind: reused ? 'reused' : 'ended', userId: standing.row.user_id };
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
 * Resolves with that instant and the event's id.
 */
export async function revokeAccessTokens(tx: Queryable, userId: string): Promise<Revocation> {
  const { rows } = await tx.query<{ id: string; sessions_revoked_at: Date; sessions_version: number }>(
    `UPDATE users SET sessions_revoked_at = clock_timestamp(), sessions_version = sessions_version + 1
      WHERE id = $1 RETURNING id, sessions_revoked_at, sessions_version`,
    [userId],
  );
  const row = rows[0]!;
  const eventId = newEventId();
  await enqueueEvent(tx, {
    subject: Subjects.SessionsRevoked,
    payload: { id: eventId, userId: row.id, notBefore: row.sessions_revoked_at.toISOString(), version: row.sessions_version },
  });
  return { notBefore: row.sessions_revoked_at, eventId };
}

/** A revocation of a user's access tokens: every token issued at or before `notBefore`, announced by event `eventId`. */
export interface Revocation {
  notBefore: Date;
  eventId: string;
}

/** Ends every session of the user: all their refresh families and all their access tokens (see `revokeAccessTokens`). */
export async function revokeAllSessions(tx: Queryable, userId: string, reason: string): Promise<Revocation> {
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
