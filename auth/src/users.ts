import type { Queryable, Role } from '@ticketing/common';

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
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  password_hash: string;
  banned_at: Date | null;
  ban_reason: string | null;
  ban_version: number;
}

const COLUMNS = 'id, email, role, password_hash, banned_at, ban_reason, ban_version';

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    passwordHash: row.password_hash,
    bannedAt: row.banned_at,
    banReason: row.ban_reason,
    banVersion: row.ban_version,
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

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** Inserts a user; resolves `null` when the email is taken. `email` must be normalised already. */
export async function insertUser(db: Queryable, user: { email: string; passwordHash: string; role: Role }): Promise<UserRecord | null> {
  try {
    const { rows } = await db.query<UserRow>(
      `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
      [user.email, user.passwordHash, user.role],
    );
    return toRecord(rows[0]!);
  } catch (err) {
    if ((err as { code?: unknown }).code === UNIQUE_VIOLATION) return null;
    throw err;
  }
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

/** Sets or clears the ban and bumps its version; returns the user as it now is. */
export async function setBan(tx: Queryable, id: string, ban: { bannedAt: Date; reason: string } | null): Promise<UserRecord> {
  const { rows } = await tx.query<UserRow>(
    `UPDATE users SET banned_at = $2, ban_reason = $3, ban_version = ban_version + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, ban?.bannedAt ?? null, ban?.reason ?? null],
  );
  return toRecord(rows[0]!);
}

/** Users for the admin console, by email; `banned` filters when set. */
export async function listUsers(db: Queryable, filter: { banned?: boolean; limit: number; offset: number }): Promise<UserRecord[]> {
  const where = filter.banned === undefined ? '' : filter.banned ? 'WHERE banned_at IS NOT NULL' : 'WHERE banned_at IS NULL';
  const { rows } = await db.query<UserRow>(
    `SELECT ${COLUMNS} FROM users ${where} ORDER BY email LIMIT $1 OFFSET $2`,
    [filter.limit, filter.offset],
  );
  return rows.map(toRecord);
}
