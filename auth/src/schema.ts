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
];
