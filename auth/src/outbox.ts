import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { checkAuthEvent, type AuthEvent, type NatsClient } from '@ticketing/common/events';
import type { Database, Logger, Queryable } from '@ticketing/common/runtime';
import { OutboxLease } from './outbox-lease.js';
import { outboxMetrics } from './outbox-metrics.js';
import { PassQueue } from './outbox-pass-queue.js';
import { OutboxPruner } from './outbox-pruner.js';
import { relayPass, type RelayPassContext } from './outbox-relay-pass.js';

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

const MIN_DEFAULT_LEASE_MS = 10_000;

/** The relay's numbers, each with its default. */
type RelaySettings = Required<Pick<OutboxRelayOptions, 'intervalMs' | 'batchSize' | 'publishTimeoutMs' | 'leaseMs' | 'retentionMs'>>;

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
 * and a relay that dies holding it is taken over once it expires (`leaseMs`). A relay whose publish
 * failed (NATS down, or never acknowledging) hands the lease on and keeps off it for
 * `publishTimeoutMs` (at least `intervalMs`) plus up to a quarter more, so a replica whose NATS
 * works takes it meanwhile; when all fail, rows go out that much later after NATS is back.
 *
 * @example
 * const relay = startOutboxRelay({ db, nats, logger });
 * await db.transaction(async (tx) => { ...; await enqueueEvent(tx, event); });
 * relay.kick();
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const settings = relaySettings(options);
  const { db, nats, logger } = options;
  const stopping = new AbortController();
  const lease = new OutboxLease(db, settings);
  const context: RelayPassContext = {
    db,
    nats,
    logger,
    metrics: outboxMetrics(options.registry),
    lease,
    pruner: new OutboxPruner(db, settings.retentionMs),
    batchSize: settings.batchSize,
    publishTimeoutMs: settings.publishTimeoutMs,
    // At least one interval, so a healthy replica's next poll falls within the rest.
    restAfterFailureMs: Math.max(settings.publishTimeoutMs, settings.intervalMs),
    stopping: stopping.signal,
  };
  const passes = new PassQueue(() => relayPass(context), stopping.signal, () => lease.resting);

  const timer = setInterval(() => void passes.request(), settings.intervalMs);
  timer.unref();
  void passes.request();
  // Back from an outage: what piled up goes out now, not after the rest a failed publish began.
  const stopHearingReconnects = nats.onReconnect(() => {
    lease.endRest();
    void passes.request();
  });

  return {
    kick: () => void passes.request(),
    relayPending: () => passes.request(),
    async stop() {
      stopping.abort();
      clearInterval(timer);
      stopHearingReconnects();
      await passes.idle();
    },
  };
}

/** The options' numbers with their defaults; a lease too short for its publishes is a TypeError at once. */
function relaySettings(options: OutboxRelayOptions): RelaySettings {
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const leaseMs = options.leaseMs ?? Math.max(3 * publishTimeoutMs, MIN_DEFAULT_LEASE_MS);
  if (!(leaseMs >= 3 * publishTimeoutMs)) {
    throw new TypeError(`outbox relay: leaseMs (${leaseMs}) must be at least 3 × publishTimeoutMs (${publishTimeoutMs})`);
  }
  return {
    intervalMs: options.intervalMs ?? 1_000,
    batchSize: options.batchSize ?? 100,
    publishTimeoutMs,
    leaseMs,
    retentionMs: options.retentionMs ?? 7 * 86_400_000,
  };
}
