/** The auth database's migrations, applied in order, once each. Append; never edit one that shipped. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     email text NOT NULL UNIQUE CHECK (email = lower(btrim(email))),
     password_hash text NOT NULL,
     role text NOT NULL CHECK (role IN ('user', 'admin')),
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `ALTER TABLE users
     ADD COLUMN banned_at timestamptz,
     ADD COLUMN ban_reason text,
     ADD COLUMN ban_version integer NOT NULL DEFAULT 0;
   CREATE INDEX users_banned ON users (email) WHERE banned_at IS NOT NULL;
   CREATE TABLE outbox (
     seq bigserial PRIMARY KEY,
     id uuid NOT NULL UNIQUE,
     subject text NOT NULL,
     payload jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     published_at timestamptz
   );
   CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;`,
  // One row: which outbox relay may publish, until when (the database's clock, shared by all replicas).
  `CREATE TABLE outbox_relay_lease (
     singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
     holder uuid,
     expires_at timestamptz NOT NULL DEFAULT '-infinity'
   );
   INSERT INTO outbox_relay_lease DEFAULT VALUES;`,
  // Sessions: a family of refresh tokens per sign-in, each stored as its SHA-256 only. Signing
  // out everywhere dates sessions_revoked_at; tokens issued at or before it are refused.
  `ALTER TABLE users
     ADD COLUMN sessions_revoked_at timestamptz,
     ADD COLUMN sessions_version integer NOT NULL DEFAULT 0;
   CREATE TABLE refresh_families (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     created_at timestamptz NOT NULL,
     expires_at timestamptz NOT NULL,
     revoked_at timestamptz,
     revoked_reason text
   );
   CREATE INDEX refresh_families_live ON refresh_families (user_id) WHERE revoked_at IS NULL;
   CREATE TABLE refresh_tokens (
     token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
     family_id uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
     created_at timestamptz NOT NULL,
     idle_expires_at timestamptz NOT NULL,
     -- Set once the token is spent, with the hash of the token that replaced it.
     rotated_at timestamptz,
     replaced_by bytea
   );
   CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);`,
  // The last ban's date outlives an unban, so a sign-in right after an unban is dated after it.
  `ALTER TABLE users ADD COLUMN last_banned_at timestamptz;
   UPDATE users SET last_banned_at = banned_at WHERE banned_at IS NOT NULL;`,
];
