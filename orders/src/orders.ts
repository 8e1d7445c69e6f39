import type { Queryable } from '@ticketing/common/runtime';

export type OrderStatus = 'created' | 'cancelled';

/** An order as responses show it. */
export interface Order {
  id: string;
  userId: string;
  ticketId: string;
  status: OrderStatus;
  createdAt: string;
  cancelledAt: string | null;
}

interface OrderRow {
  id: string;
  user_id: string;
  ticket_id: string;
  status: OrderStatus;
  created_at: Date;
  cancelled_at: Date | null;
}

const COLUMNS = 'id, user_id, ticket_id, status, created_at, cancelled_at';

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.user_id,
    ticketId: row.ticket_id,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    cancelledAt: row.cancelled_at?.toISOString() ?? null,
  };
}

/** How many orders one listing returns at most. */
export const LIST_LIMIT = 100;

export async function insertOrder(db: Queryable, order: { userId: string; ticketId: string }): Promise<Order> {
  const { rows } = await db.query<OrderRow>(
    `INSERT INTO orders (user_id, ticket_id) VALUES ($1, $2) RETURNING ${COLUMNS}`,
    [order.userId, order.ticketId],
  );
  return toOrder(rows[0]!);
}

export async function listOrders(db: Queryable, userId: string): Promise<Order[]> {
  const { rows } = await db.query<OrderRow>(
    `SELECT ${COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT ${LIST_LIMIT}`,
    [userId],
  );
  return rows.map(toOrder);
}

/** The user's order, or `null` when there is none or it belongs to someone else. */
export async function findOrder(db: Queryable, userId: string, orderId: string): Promise<Order | null> {
  const { rows } = await db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1 AND user_id = $2`, [orderId, userId]);
  return rows[0] ? toOrder(rows[0]) : null;
}

/** Cancels the user's order if it is still open; `null` when it was not (missing, not theirs, or cancelled). */
export async function cancelOrder(db: Queryable, userId: string, orderId: string): Promise<Order | null> {
  const { rows } = await db.query<OrderRow>(
    `UPDATE orders SET status = 'cancelled', cancelled_at = now()
      WHERE id = $1 AND user_id = $2 AND status = 'created' RETURNING ${COLUMNS}`,
    [orderId, userId],
  );
  return rows[0] ? toOrder(rows[0]) : null;
}
