import { randomUUID } from 'node:crypto';
import type { Queryable } from '@ticketing/common/runtime';

/**
 * One relay's hold on the turn to publish, the single row of `outbox_relay_lease`. It is taken,
 * renewed and released by single statements and timed by the database's clock, so no transaction,
 * row lock or pooled connection is held while a publish waits for NATS.
 */
export class OutboxLease {
  /** This relay's name in the lease. */
  readonly #me = randomUUID();
  readonly #db: Queryable;
  readonly #leaseMs: number;
  readonly #publishTimeoutMs: number;
  /**
   * Until when (`performance.now()`) this relay surely holds the lease: the moment its last take or
   * renewal was sent plus `leaseMs`, which is never later than the expiry the database recorded.
   */
  #until = 0;
  /** Until when (`performance.now()`) this relay keeps off the lease after a failed publish. */
  #restingUntil = 0;

  constructor(db: Queryable, options: { leaseMs: number; publishTimeoutMs: number }) {
    this.#db = db;
    this.#leaseMs = options.leaseMs;
    this.#publishTimeoutMs = options.publishTimeoutMs;
  }

  /** True from a take until a release or a lost renewal (though it may have expired meanwhile). */
  get taken(): boolean {
    return this.#until > 0;
  }

  /** True while this relay keeps off the lease after a failed publish (see `giveWay`). */
  get resting(): boolean {
    return performance.now() < this.#restingUntil;
  }

  /**
   * Takes the lease, or renews it, when rows are pending (so an idle relay writes nothing); false
   * when another relay holds it, nothing is pending, or this relay is resting (without asking the
   * database). The row lock of this one UPDATE makes two relays racing for an expired lease agree
   * on one winner.
   */
  async take(): Promise<boolean> {
    if (this.resting) return false;
    const sentAt = performance.now();
    const { rows } = await this.#db.query(
      `UPDATE outbox_relay_lease SET holder = $1, expires_at = now() + make_interval(secs => $2)
        WHERE (holder = $1 OR holder IS NULL OR expires_at < now())
          AND EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)
        RETURNING holder`,
      [this.#me, this.#leaseMs / 1000],
    );
    if (rows.length === 0) return false;
    this.#until = sentAt + this.#leaseMs;
    return true;
  }

  /** True when the lease covers the next publish, taking it again if too little of it is left. */
  async coverPublish(): Promise<boolean> {
    return this.#coversPublish() || ((await this.take()) && this.#coversPublish());
  }

  /**
   * Marks published rows and renews the lease in one statement; false when the lease has passed to
   * another relay (this one was stalled past its expiry), which then carries on in its place. The
   * rows are marked either way: they did go out.
   */
  async markPublishedAndRenew(ids: readonly string[]): Promise<boolean> {
    const sentAt = performance.now();
    const { rows: [lease] } = await this.#db.query<{ held: boolean }>(
      `WITH marked AS (UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[]) AND published_at IS NULL),
            renewed AS (UPDATE outbox_relay_lease SET expires_at = now() + make_interval(secs => $3) WHERE holder = $2 RETURNING holder)
       SELECT EXISTS (SELECT 1 FROM renewed) AS held`,
      [ids, this.#me, this.#leaseMs / 1000],
    );
    this.#until = lease!.held ? sentAt + this.#leaseMs : 0;
    return lease!.held;
  }

  /** Hands the turn on at once rather than make the other relays wait for it to expire. */
  async release(): Promise<void> {
    this.#until = 0;
    await this.#db.query('UPDATE outbox_relay_lease SET holder = NULL WHERE holder = $1', [this.#me]);
  }

  /**
   * After a failed publish: releases the lease, then keeps off it for `restMs` plus up to a quarter
   * more at random. A relay whose NATS accepts publishes but never acknowledges them would otherwise
   * take the lease straight back, again and again, and a healthy replica polling now and then would
   * almost never land in the gap; the jitter keeps relays that all fail from retrying in step.
   */
  async giveWay(restMs: number): Promise<void> {
    if (this.taken) await this.release();
    // Counted from the release, so the whole rest is a window for another relay.
    this.#restingUntil = performance.now() + restMs * (1 + Math.random() / 4);
  }

  /** A publish may start only if the lease outlasts it (twice its timeout, for a busy event loop), so turns never overlap. */
  /** Ends a rest early (NATS is back): the next pass may take the lease at once. */
  endRest(): void {
    this.#restingUntil = 0;
  }

  #coversPublish(): boolean {
    return performance.now() + 2 * this.#publishTimeoutMs <= this.#until;
  }
}
