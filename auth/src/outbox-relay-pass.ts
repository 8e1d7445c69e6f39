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
  /** The connection to NATS was lost and made again mid-pass: try again at once, not after a rest. */
  reconnected: boolean;
}

/**
 * One pass of the relay: while it holds the lease, publishes pending rows in `seq` order, marks
 * them published, and measures what is left. Returns how many rows it published.
 */
export async function relayPass(relay: RelayPassContext): Promise<number> {
  const count: PassCount = { published: 0, publishFailed: false, reconnected: false };
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

async function publishPending(relay: RelayPassContext, count: PassCount): Promise<void> {
  const js = jetstream(await relay.nats.connection(), { timeout: relay.publishTimeoutMs });
  // A publish in flight when the connection drops gets no ack, and would wait out its whole
  // timeout after NATS is back: a reconnect ends that wait, and the rows go again at once (the
  // stream drops any that had landed, by their id).
  let reconnected = (): void => undefined;
  const lost = new Promise<never>((_resolve, reject) => {
    reconnected = () => reject(new Error('NATS reconnected while a publish was waiting for its ack'));
  });
  lost.catch(() => undefined);
  const off = relay.nats.onReconnect(() => {
    count.reconnected = true;
    reconnected();
  });
  try {
    while (!relay.stopping.aborted && (await relayBatch(js, relay, count, lost)));
  } finally {
    off();
    // Hand the turn on at once rather than make the other relays wait for it to expire.
    if (count.publishFailed && !count.reconnected) await relay.lease.giveWay(relay.restAfterFailureMs);
    else if (relay.lease.taken) await relay.lease.release();
  }
}

/** Reads a batch and publishes it, run by run; true when there may be more. */
async function relayBatch(js: JetStreamClient, relay: RelayPassContext, count: PassCount, lost: Promise<never>): Promise<boolean> {
  if (!(await relay.lease.take())) return false;
  const rows = await readBatch(relay.db, relay.batchSize);
  for (const run of runsOfDistinctUsers(rows)) {
    if (relay.stopping.aborted) return false;
    if (!(await publishRun(js, run, relay, count, lost))) return false;
  }
  return rows.length === relay.batchSize;
}

async function readBatch(db: Queryable, batchSize: number): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    'SELECT id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1',
    [batchSize],
  );
  return rows;
}

/**
 * The rows in order, cut into runs in which no user appears twice. A run is published all at
 * once (the stream stores it in the order sent); if one of its publishes fails, it goes again in a
 * later pass, after others of the run that landed, but those are other users' events: each user's
 * events stay in commit order, because a user's next event is in a later run, which is not sent
 * until the whole run before it was acked.
 */
function runsOfDistinctUsers(rows: readonly OutboxRow[]): OutboxRow[][] {
  const runs: OutboxRow[][] = [];
  let run: OutboxRow[] = [];
  let users = new Set<string>();
  for (const row of rows) {
    const user = (row.payload as { userId?: unknown }).userId;
    const key = typeof user === 'string' ? user : row.id;
    if (users.has(key)) {
      runs.push(run);
      run = [];
      users = new Set();
    }
    users.add(key);
    run.push(row);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

async function publishRun(js: JetStreamClient, run: OutboxRow[], relay: RelayPassContext, count: PassCount, lost: Promise<never>): Promise<boolean> {
  // Renewed by each mark below; only a slow database gets here with too little of it left.
  if (!(await relay.lease.coverPublish())) return false;
  const outcomes = await Promise.allSettled(run.map((row) => {
    const publish = js.publish(row.subject, encodeEvent(row.payload as AuthEvent['payload']), { msgID: row.id });
    publish.catch(() => undefined);
    return Promise.race([publish, lost]);
  }));
  const landed = run.filter((_row, i) => outcomes[i]!.status === 'fulfilled').map((row) => row.id);
  const failed = run.length - landed.length;
  if (failed > 0) {
    // Rows that landed are marked below; the rest stay pending for the next pass.
    relay.metrics.failures.inc(failed);
    count.publishFailed = true;
    const first = outcomes.findIndex((outcome) => outcome.status === 'rejected');
    const reason = (outcomes[first] as PromiseRejectedResult).reason as Error;
    relay.logger.warn({ err: reason?.message, eventId: run[first]!.id, failed }, 'outbox publish failed; will retry');
  }
  if (landed.length === 0) return false;
  const held = await relay.lease.markPublishedAndRenew(landed);
  count.published += landed.length;
  relay.metrics.published.inc(landed.length);
  if (!held) {
    relay.logger.warn({ eventIds: landed.length }, 'outbox relay lease expired mid-pass and was taken over; stopping this pass');
    return false;
  }
  return failed === 0;
}
