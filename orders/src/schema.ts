/** The orders database's migrations, applied in order, once each. Append; never edit one that shipped. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE orders (
     id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     user_id text NOT NULL,
     ticket_id text NOT NULL,
     status text NOT NULL DEFAULT 'created' CHECK (status IN ('created', 'cancelled')),
     created_at timestamptz NOT NULL DEFAULT now(),
     cancelled_at timestamptz
   );
   CREATE INDEX orders_user_id_created_at ON orders (user_id, created_at DESC);`,
];
