/** The auth database's migrations, applied in order, once each. Append; never edit one that shipped. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     email text NOT NULL UNIQUE CHECK (email = lower(btrim(email))),
     password_hash text NOT NULL,
     role text NOT NULL CHECK (role IN ('user', 'admin')),
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
];
