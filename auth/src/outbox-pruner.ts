import type { Queryable } from '@ticketing/common/runtime';

const PRUNE_EVERY_MS = 3_600_000;

/** Deletes published rows older than the retention, at most hourly: they stay a while for audits. */
export class OutboxPruner {
  readonly #db: Queryable;
  readonly #retentionMs: number;
  /** When this relay last pruned (`Date.now()`); 0 before its first pass. */
  #prunedAt = 0;

  constructor(db: Queryable, retentionMs: number) {
    this.#db = db;
    this.#retentionMs = retentionMs;
  }

  async pruneIfDue(): Promise<void> {
    if (Date.now() - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = Date.now();
    await this.#db.query(`DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)`, [this.#retentionMs / 1000]);
  }
}
