import type { Queryable } from '@ticketing/common/runtime';
import type { Role } from '@ticketing/common/tokens';

/** A user as every response shows it: never the password hash, never a database-internal field. */
export interface PublicUser {
  id: string;
  email: string;
  role: Role;
}

/** A user as the admin console sees it. */
export interface AdminUserView extends PublicUser {
  banned: boolean;
  bannedAt: string | null;
  banReason: string | null;
}

export interface UserRecord extends PublicUser {
  passwordHash: string;
  bannedAt: Date | null;
  banReason: string | null;
  banVersion: number;
  /** When every session of the user was last ended: tokens issued at or before it are refused. */
  sessionsRevokedAt: Date | null;
  /** When the user was last banned, kept after an unban: tokens issued at or before it stay refused. */
  lastBannedAt: Date | null;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  password_hash: string;
  banned_at: Date | null;
  ban_reason: string | null;
  ban_version: number;
  sessions_revoked_at: Date | null;
  last_banned_at: Date | null;
}

const COLUMNS = 'id, email, role, password_hash, banned_at, ban_reason, ban_version, sessions_revoked_at, last_banned_at';

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    passwordHash: row.password_hash,
    bannedAt: row.banned_at,
    banReason: row.ban_reason,
    banVersion: row.ban_version,
    sessionsRevokedAt: row.sessions_revoked_at,
    lastBannedAt: row.last_banned_at,
  };
}

/** Drops everything a response must not carry. */
export function toPublicUser(user: PublicUser): PublicUser {
  return { id: user.id, email: user.email, role: user.role };
}

export function toAdminView(user: UserRecord): AdminUserView {
  return {
    ...toPublicUser(user),
    banned: user.bannedAt !== null,
    bannedAt: user.bannedAt?.toISOString() ?? null,
    banReason: user.banReason,
  };
}

/**
 * Inserts a user; resolves `null` when the email is taken. `email` must be normalised already.
 * `insertedAt` is the database's clock at the insert: the clock that dates bans, so date the
 * user's first token from it (a ban of this user can only lock the row after the insert commits).
 * A taken email is no error (`ON CONFLICT DO NOTHING`), so the caller's transaction stays usable:
 * after a failed statement PostgreSQL turns its COMMIT into a rollback, and PGlite throws.
 */
export async function insertUser(
  db: Queryable,
  user: { email: string; passwordHash: string; role: Role },
): Promise<{ user: UserRecord; insertedAt: Date } | null> {
  const { rows } = await db.query<UserRow & { inserted_at: Date }>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING
     RETURNING ${COLUMNS}, clock_timestamp() AS inserted_at`,
    [user.email, user.passwordHash, user.role],
  );
  const row = rows[0];
  return row === undefined ? null : { user: toRecord(row), insertedAt: row.inserted_at };
}

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRecord | null> {
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
  return rows[0] ? toRecord(rows[0]) : null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The user with this id; `null` when there is none (or the id is not even a UUID). `lock` locks
 * the row (`FOR UPDATE` or `FOR SHARE`) until the caller's transaction ends.
 */
export async function findUserById(db: Queryable, id: string, options: { lock?: 'update' | 'share' } = {}): Promise<UserRecord | null> {
  if (!UUID.test(id)) return null;
  const lock = options.lock === undefined ? '' : ` FOR ${options.lock.toUpperCase()}`;
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1${lock}`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/**
 * The database's clock now (`clock_timestamp()`, not the transaction's start). Token `iat`s and
 * ban dates all come from it, so replicas whose own clocks disagree still order them as the row
 * locks did.
 */
export async function databaseNow(db: Queryable): Promise<Date> {
  const { rows } = await db.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]!.now;
}

/**
 * Sets or clears the ban and bumps its version; returns the user as it now is, and `at`, the
 * database's clock when the change was made (for a ban, the user's `bannedAt`). Call it with the
 * row locked `FOR UPDATE`: a signin that held the row's share lock has then committed, so its
 * token's `iat`, read from the same clock under that lock, is not after `at`.
 */
export async function setBan(tx: Queryable, id: string, ban: { reason: string } | null): Promise<{ user: UserRecord; at: Date }> {
  const { rows } = await tx.query<UserRow & { changed_at: Date }>(
    `WITH clock AS (SELECT clock_timestamp() AS at)
     UPDATE users SET banned_at = CASE WHEN $2::boolean THEN clock.at END, ban_reason = $3, ban_version = ban_version + 1,
       last_banned_at = CASE WHEN $2::boolean THEN clock.at ELSE last_banned_at END
     FROM clock WHERE id = $1 RETURNING ${COLUMNS}, clock.at AS changed_at`,
    [id, ban !== null, ban?.reason ?? null],
  );
  return { user: toRecord(rows[0]!), at: rows[0]!.changed_at };
}

/** Users for the admin console, by email; `banned` filters when set. */
export async function listUsers(db: Queryable, filter: { banned?: boolean; q?: string; limit: number; offset: number }): Promise<UserRecord[]> {
  const conditions: string[] = [];
  const params: unknown[] = [filter.limit, filter.offset];
  if (filter.banned !== undefined) conditions.push(filter.banned ? 'banned_at IS NOT NULL' : 'banned_at IS NULL');
  if (filter.q !== undefined) {
    // The text as it is: `%` and `_` in it match themselves.
    params.push(`%${filter.q.replace(/[\\%_]/g, (char) => `\\${char}`)}%`, filter.q);
    conditions.push(`(email LIKE $3 ESCAPE '\\' OR id::text = $4)`);
  }
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users ${where} ORDER BY email LIMIT $1 OFFSET $2`, params);
  return rows.map(toRecord);
}

/** Stores a new password hash for the user. */
export async function setPasswordHash(tx: Queryable, id: string, passwordHash: string): Promise<void> {
  await tx.query('UPDATE users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
}

/** True when a token issued at `issuedAtSeconds` predates the end of all the user's sessions. */
export function isSessionRevoked(user: Pick<UserRecord, 'sessionsRevokedAt'>, issuedAtSeconds: number): boolean {
  return user.sessionsRevokedAt !== null && issuedAtSeconds * 1000 <= user.sessionsRevokedAt.getTime();
}
