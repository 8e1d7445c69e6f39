import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { encodeEvent, type AuthEvent, type NatsClient } from '@ticketing/common/events';
import type { Logger, Queryable } from '@ticketing/common/runtime';
import type { OutboxLease } from './outbox-lease.js';
import { measurePending, type OutboxMetrics } from './outbox-metrics.js';
import type { OutboxPruner } from './outbox-pruner.js';

/** What a relay's passes work with; fixed for the relay's life. */
export interface RelayPassContext {
  db: Queryable;
  nats: NatsClient;
  logger: Logger;
  metrics: OutboxMetrics;
  lease: OutboxLease;
  pruner: OutboxPruner;
  /** Rows read per query. */
  batchSize: number;
  /** How long one publish may wait for NATS's acknowledgement, in ms. */
  publishTimeoutMs: number;
  /** How long a relay whose publish failed keeps off the lease (plus jitter), in ms; see `OutboxLease.giveWay`. */
  restAfterFailureMs: number;
  /** Aborted when the relay stops: no row is published after that. */
  stopping: AbortSignal;
}

interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
}

/** Rows published so far in a pass, kept when the pass fails halfway, and whether a publish failed. */
interface PassCount {
  published: number;
  publishFailed: boolean;
}

/**
 * One pass: publishes pending rows in order while NATS is up, then measures and prunes the outbox;
 * resolves with how many rows it published. A failure is logged and left to the next pass.
 */
export async function relayPass(relay: RelayPassContext): Promise<number> {
  const count: PassCount = { published: 0, publishFailed: false };
  try {
    if (relay.nats.isConnected()) await publishPending(relay, count);
    await measurePending(relay.db, relay.metrics.pending);
    await relay.pruner.pruneIfDue();
  } catch (err) {
    relay.logger.warn({ err }, 'outbox relay pass failed; will retry');
  }
  if (count.published > 0) relay.logger.debug({ published: count.published }, 'outbox relayed');
  return count.published;
}

/**
 * Publishes batch after batch while rows are left and the turn is this relay's, then hands the turn
 * on: at once, or, after a failed publish, for a rest, so that a replica whose NATS works publishes.
 */
async function publishPending(relay: RelayPassContext, count: PassCount): Promise<void> {
  const js = jetstream(await relay.nats.connection(), { timeout: relay.publishTimeoutMs });
  try {
    while (!relay.stopping.aborted && (await relayBatch(js, relay, count)));
  } finally {
    // Hand the turn on at once rather than make the other relays wait for it to expire.
    if (count.publishFailed) await relay.lease.giveWay(relay.restAfterFailureMs);
    else if (relay.lease.taken) await relay.lease.release();
  }
}

/** Publishes one batch in order under the lease; false when nothing is left, a publish failed, or another relay has the turn. */
async function relayBatch(js: JetStreamClient, relay: RelayPassContext, count: PassCount): Promise<boolean> {
  if (!(await relay.lease.take())) return false;
  const rows = await readBatch(relay.db, relay.batchSize);
  for (const row of rows) {
    if (relay.stopping.aborted) return false;
    if (!(await publishRow(js, row, relay, count))) return false;
  }
  return rows.length === relay.batchSize;
}

/** The oldest `batchSize` pending rows, in commit (seq) order. */
async function readBatch(db: Queryable, batchSize: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    'SELECT id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1',
    [batchSize],
  );
  return rows;
}

/**
 * Publishes one row, with its event id as message id (so the stream drops a row published twice),
 * and marks it; false when the pass must end here: the lease is lost or too short, or the publish failed.
 */
async function publishRow(js: JetStreamClient, row: OutboxRow, relay: RelayPassContext, count: PassCount): Promise<boolean> {
  // Renewed by each mark below; only a slow database gets here with too little of it left.
  if (!(await relay.lease.coverPublish())) return false;
  try {
    await js.publish(row.subject, encodeEvent(row.payload as AuthEvent['payload']), { msgID: row.id });
  } catch (err) {
    // Rows published so far are marked already; the rest stay pending for the next pass.
    relay.metrics.failures.inc();
    count.publishFailed = true;
    relay.logger.warn({ err: (err as Error).message, eventId: row.id }, 'outbox publish failed; will retry');
    return false;
  }
  const held = await relay.lease.markPublishedAndRenew(row.id);
  count.published++;
  relay.metrics.published.inc();
  if (!held) {
    relay.logger.warn({ eventId: row.id }, 'outbox relay lease expired mid-pass and was taken over; stopping this pass');
    return false;
  }
  return true;
}
