import { Counter, Gauge, type Registry } from 'prom-client';
import type { Queryable } from '@ticketing/common/runtime';

/** The outbox as last measured: the gauges show it when scraped. */
export interface PendingRows {
  rows: number;
  oldestAgeSeconds: number;
}

/** The counters a relay increments, and the measurement its gauges show. */
export interface OutboxMetrics {
  published: Counter;
  failures: Counter;
  pending: PendingRows;
}

/** Registers an outbox relay's metrics (unregistered without a registry). */
export function outboxMetrics(registry: Registry | undefined): OutboxMetrics {
  const registers = registry ? [registry] : [];
  const published = new Counter({ name: 'outbox_published_total', help: 'Outbox events published to JetStream', registers });
  const failures = new Counter({ name: 'outbox_publish_failures_total', help: 'Outbox relay passes stopped by a failed publish', registers });
  const pending: PendingRows = { rows: 0, oldestAgeSeconds: 0 };
  new Gauge({ name: 'outbox_pending_rows', help: 'Outbox events not yet published', registers, collect() { this.set(pending.rows); } });
  new Gauge({ name: 'outbox_oldest_pending_age_seconds', help: 'Age of the oldest unpublished outbox event (0 when none)', registers, collect() { this.set(pending.oldestAgeSeconds); } });
  return { published, failures, pending };
}

/** Measures the unpublished rows (how many, and the age of the oldest by the database's clock) into `pending`. */
export async function measurePending(db: Queryable, pending: PendingRows): Promise<void> {
  const { rows } = await db.query<{ count: string; oldest_seconds: number | null }>(
    `SELECT count(*) AS count, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest_seconds
       FROM outbox WHERE published_at IS NULL`,
  );
  pending.rows = Number(rows[0]!.count);
  pending.oldestAgeSeconds = rows[0]!.oldest_seconds ?? 0;
}
