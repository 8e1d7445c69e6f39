import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Counter, Gauge, type Registry } from 'prom-client';
import { checkAuthEvent, encodeEvent, type AuthEvent, type NatsClient } from '@ticketing/common/events';
import type { Database, Logger, Queryable } from '@ticketing/common/runtime';

/**
 * Records an event in the outbox, inside the caller's transaction: it commits (and is later
 * published) exactly when the change it describes commits.
 */
export async function enqueueEvent(tx: Queryable, event: AuthEvent): Promise<void> {
  // An event consumers would skip as malformed must fail its transaction, not be lost on the stream.
  const { subject, payload } = checkAuthEvent(event);
  await tx.query('INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)', [payload.id, subject, JSON.stringify(payload)]);
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
  /** Rows read per query. */
  batchSize?: number;
  /** How long one publish may wait for NATS's acknowledgement, in ms. */
  publishTimeoutMs?: number;
  /**
   * How long a relay's turn to publish lasts unless renewed, in ms: a relay that dies mid-pass holds
   * the others off this long. At least 3 × `publishTimeoutMs`; by default that or 10 s, whichever is longer.
   */
  leaseMs?: number;
  /** Published rows older than this are deleted (hourly), in ms; they stay a while for audits. */
  retentionMs?: number;
}

const PRUNE_EVERY_MS = 3_600_000;
const MIN_DEFAULT_LEASE_MS = 10_000;

interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
}

/**
 * Publishes the outbox to JetStream: pending rows in order, each with its event id as message id
 * (so a row published twice is dropped by the stream), then marks them published. Runs at
 * start, after each kick, and every `intervalMs`, so an event whose publish was interrupted (a
 * crash, a NATS outage) goes out later and is never lost.
 *
 * Replicas can run relays at once: one publishes at a time, in commit order (so a user's unban
 * never overtakes its ban), while it holds the lease in `outbox_relay_lease`; the others skip that
 * pass. The lease is taken, renewed and released by single statements and timed by the database's
 * clock, so no transaction, row lock or pooled connection is held while a publish waits for NATS,
 * and a relay that dies holding it is taken over once it expires (`leaseMs`).
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
  const leaseMs = options.leaseMs ?? Math.max(3 * publishTimeoutMs, MIN_DEFAULT_LEASE_MS);
  const retentionMs = options.retentionMs ?? 7 * 86_400_000;
  if (!(leaseMs >= 3 * publishTimeoutMs)) {
    throw new TypeError(`outbox relay: leaseMs (${leaseMs}) must be at least 3 × publishTimeoutMs (${publishTimeoutMs})`);
  }
  let prunedAt = 0;
  const registers = options.registry ? [options.registry] : [];
  const published = new Counter({ name: 'outbox_published_total', help: 'Outbox events published to JetStream', registers });
  const failures = new Counter({ name: 'outbox_publish_failures_total', help: 'Outbox relay passes stopped by a failed publish', registers });
  const pending = { rows: 0, oldestAgeSeconds: 0 };
  new Gauge({ name: 'outbox_pending_rows', help: 'Outbox events not yet published', registers, collect() { this.set(pending.rows); } });
  new Gauge({ name: 'outbox_oldest_pending_age_seconds', help: 'Age of the oldest unpublished outbox event (0 when none)', registers, collect() { this.set(pending.oldestAgeSeconds); } });

  /** This relay's name in the lease. */
  const me = randomUUID();
  /**
   * Until when (`performance.now()`) this relay surely holds the lease: the moment its last take or
   * renewal was sent plus `leaseMs`, which is never later than the expiry the database recorded.
   */
  let leaseUntil = 0;
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

  /**
   * Takes the lease, or renews it, when rows are pending (so an idle relay writes nothing); false
   * when another relay holds it or nothing is pending. The row lock of this one UPDATE makes two
   * relays racing for an expired lease agree on one winner.
   */
  async function takeLease(): Promise<boolean> {
    const sentAt = performance.now();
    const { rows } = await db.query(
      `UPDATE outbox_relay_lease SET holder = $1, expires_at = now() + make_interval(secs => $2)
        WHERE (holder = $1 OR holder IS NULL OR expires_at < now())
          AND EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)
        RETURNING holder`,
      [me, leaseMs / 1000],
    );
    if (rows.length === 0) return false;
    leaseUntil = sentAt + leaseMs;
    return true;
  }

  /**
   * Marks a published row and renews the lease in one statement; false when the lease has passed to
   * another relay (this one was stalled past its expiry), which then carries on in its place. The
   * row is marked either way: it did go out.
   */
  async function markPublished(id: string): Promise<boolean> {
    const sentAt = performance.now();
    const { rows: [lease] } = await db.query<{ held: boolean }>(
      `WITH marked AS (UPDATE outbox SET published_at = now() WHERE id = $1 AND published_at IS NULL),
            renewed AS (UPDATE outbox_relay_lease SET expires_at = now() + make_interval(secs => $3) WHERE holder = $2 RETURNING holder)
       SELECT EXISTS (SELECT 1 FROM renewed) AS held`,
      [id, me, leaseMs / 1000],
    );
    leaseUntil = lease!.held ? sentAt + leaseMs : 0;
    return lease!.held;
  }

  async function releaseLease(): Promise<void> {
    leaseUntil = 0;
    await db.query('UPDATE outbox_relay_lease SET holder = NULL WHERE holder = $1', [me]);
  }

  /** A publish may start only if the lease outlasts it (twice its timeout, for a busy event loop), so turns never overlap. */
  const leaseCoversPublish = (): boolean => performance.now() + 2 * publishTimeoutMs <= leaseUntil;

  /** Publishes one batch in order under the lease; false when nothing is left, a publish failed, or another relay has the turn. */
  async function relayBatch(js: JetStreamClient, count: { published: number }): Promise<boolean> {
    if (!(await takeLease())) return false;
    const { rows } = await db.query<OutboxRow>(
      'SELECT id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1',
      [batchSize],
    );
    for (const row of rows) {
      if (stopped) return false;
      // Renewed by each mark below; only a slow database gets here with too little of it left.
      if (!leaseCoversPublish() && !((await takeLease()) && leaseCoversPublish())) return false;
      try {
        await js.publish(row.subject, encodeEvent(row.payload as AuthEvent['payload']), { msgID: row.id });
      } catch (err) {
        // Rows published so far are marked already; the rest stay pending for the next pass.
        failures.inc();
        logger.warn({ err: (err as Error).message, eventId: row.id }, 'outbox publish failed; will retry');
        return false;
      }
      const held = await markPublished(row.id);
      count.published++;
      published.inc();
      if (!held) {
        logger.warn({ eventId: row.id }, 'outbox relay lease expired mid-pass and was taken over; stopping this pass');
        return false;
      }
    }
    return rows.length === batchSize;
  }

  async function prune(): Promise<void> {
    if (Date.now() - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = Date.now();
    await db.query(`DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)`, [retentionMs / 1000]);
  }

  async function pass(): Promise<number> {
    const count = { published: 0 };
    try {
      if (nats.isConnected()) {
        const js = jetstream(await nats.connection(), { timeout: publishTimeoutMs });
        try {
          while (!stopped && (await relayBatch(js, count)));
        } finally {
          // Hand the turn on at once rather than make the other relays wait for it to expire.
          if (leaseUntil > 0) await releaseLease();
        }
      }
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
