import type { Queryable, Role } from '@ticketing/common';

/** A user as every response shows it: never the password hash, never a database-internal field. */
export interface PublicUser {
  id: string;
  email: string;
  role: Role;
}

export interface UserRecord extends PublicUser {
  passwordHash: string;
}

interface UserRow {
  id: string;
  email: string;
  role: Role;
  password_hash: string;
}

const COLUMNS = 'id, email, role, password_hash';

function toRecord(row: UserRow): UserRecord {
  return { id: row.id, email: row.email, role: row.role, passwordHash: row.password_hash };
}

/** Drops everything a response must not carry. */
export function toPublicUser(user: PublicUser): PublicUser {
  return { id: user.id, email: user.email, role: user.role };
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

/** The user with this id; `null` when there is none (or the id is not even a UUID). */
export async function findUserById(db: Queryable, id: string): Promise<UserRecord | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}
