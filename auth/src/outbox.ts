import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Counter, Gauge, type Registry } from 'prom-client';
import { encodeEvent, type AuthEvent, type Database, type Logger, type NatsClient, type Queryable } from '@ticketing/common';

/**
 * Records an event in the outbox, inside the caller's transaction: it commits (and is later
 * published) exactly when the change it describes commits.
 */
export async function enqueueEvent(tx: Queryable, event: AuthEvent): Promise<void> {
  await tx.query('INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)', [event.payload.id, event.subject, JSON.stringify(event.payload)]);
}

/** A fresh event id, which is also the JetStream message id. */
export const newEventId = (): string => randomUUID();

export interface OutboxRelay {
  /** Publish pending rows soon (after a commit); never waits for NATS. */
  kick(): void;
  /** One pass: publishes pending rows in order until none is left or NATS fails; resolves with how many it published. */
  relayPending(): Promise<number>;
  stop(): Promise<void>;
}

export interface OutboxRelayOptions {
  db: Database;
  nats: NatsClient;
  logger: Logger;
  registry?: Registry;
  /** How often pending rows are retried without a kick, in ms. */
  intervalMs?: number;
  /** Rows claimed per transaction. */
  batchSize?: number;
  /** How long one publish may wait for NATS's acknowledgement, in ms. */
  publishTimeoutMs?: number;
  /** Published rows older than this are deleted (hourly), in ms; they stay a while for audits. */
  retentionMs?: number;
}

const PRUNE_EVERY_MS = 3_600_000;

interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
}

/**
 * Publishes the outbox to JetStream: pending rows in order, each with its event id as message id
 * (so a row published twice is dropped by the stream), then marks them published. Runs at
 * start, after each kick, and every `intervalMs`, so an event whose publish was interrupted (a
 * crash, a NATS outage) goes out later and is never lost. Replicas can run relays at once: one
 * publishes at a time (a transaction-scoped advisory lock), in commit order, and rows are claimed
 * with `FOR UPDATE SKIP LOCKED`.
 *
 * @example
 * const relay = startOutboxRelay({ db, nats, logger });
 * await db.transaction(async (tx) => { ...; await enqueueEvent(tx, event); });
 * relay.kick();
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, nats, logger } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const batchSize = options.batchSize ?? 100;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const retentionMs = options.retentionMs ?? 7 * 86_400_000;
  let prunedAt = 0;
  const registers = options.registry ? [options.registry] : [];
  const published = new Counter({ name: 'outbox_published_total', help: 'Outbox events published to JetStream', registers });
  const failures = new Counter({ name: 'outbox_publish_failures_total', help: 'Outbox relay passes stopped by a failed publish', registers });
  const pending = { rows: 0, oldestAgeSeconds: 0 };
  new Gauge({ name: 'outbox_pending_rows', help: 'Outbox events not yet published', registers, collect() { this.set(pending.rows); } });
  new Gauge({ name: 'outbox_oldest_pending_age_seconds', help: 'Age of the oldest unpublished outbox event (0 when none)', registers, collect() { this.set(pending.oldestAgeSeconds); } });

  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;

  async function measure(): Promise<void> {
    const { rows } = await db.query<{ count: string; oldest_seconds: number | null }>(
      `SELECT count(*) AS count, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS oldest_seconds
         FROM outbox WHERE published_at IS NULL`,
    );
    pending.rows = Number(rows[0]!.count);
    pending.oldestAgeSeconds = rows[0]!.oldest_seconds ?? 0;
  }

  /** Claims one batch and publishes it in order; false when nothing is left, a publish failed, or another relay has the turn. */
  async function relayBatch(count: { published: number }): Promise<boolean> {
    if (!nats.isConnected()) return false;
    const js = jetstream(await nats.connection(), { timeout: publishTimeoutMs });
    const relay = async (tx: Queryable): Promise<boolean> => {
      // One relay at a time keeps the stream in commit order (a user's unban never overtakes its
      // ban); the others skip this pass, and SKIP LOCKED keeps them off claimed rows regardless.
      if (db.kind === 'postgres') {
        const { rows: [turn] } = await tx.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext('outbox_relay')) AS ok");
        if (!turn!.ok) return false;
      }
      const { rows } = await tx.query<OutboxRow>(
        `SELECT id, subject, payload FROM outbox WHERE published_at IS NULL
          ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      for (const row of rows) {
        try {
          await js.publish(row.subject, encodeEvent(row.payload as AuthEvent['payload']), { msgID: row.id });
        } catch (err) {
          // Rows published so far are marked already; the rest stay pending for the next pass.
          failures.inc();
          logger.warn({ err: (err as Error).message, eventId: row.id }, 'outbox publish failed; will retry');
          return false;
        }
        await tx.query('UPDATE outbox SET published_at = now() WHERE id = $1', [row.id]);
        count.published++;
        published.inc();
      }
      return rows.length === batchSize;
    };
    // Embedded PGlite makes every query wait for an open transaction, so there a pass (the only
    // relay of the only process) claims nothing and marks each row as it goes.
    return db.kind === 'pglite' ? relay(db) : db.transaction(relay);
  }

  async function prune(): Promise<void> {
    if (Date.now() - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = Date.now();
    await db.query(`DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)`, [retentionMs / 1000]);
  }

  async function pass(): Promise<number> {
    const count = { published: 0 };
    try {
      while (!stopped && (await relayBatch(count)));
      await measure();
      await prune();
    } catch (err) {
      logger.warn({ err }, 'outbox relay pass failed; will retry');
    }
    if (count.published > 0) logger.debug({ published: count.published }, 'outbox relayed');
    return count.published;
  }

  function relayPending(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = pass().finally(() => {
      running = undefined;
      if (again && !stopped) {
        again = false;
        void relayPending();
      }
    });
    return running;
  }

  const timer = setInterval(() => void relayPending(), intervalMs);
  timer.unref();
  void relayPending();

  return {
    kick: () => void relayPending(),
    relayPending,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
