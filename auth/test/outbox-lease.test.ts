import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { AUTH_STREAM, connectNats, ensureAuthStream, migrate, openDatabase, Subjects, type Database, type NatsClient } from '@ticketing/common';
import { createTestDatabase, silentLogger, startNatsServer, waitFor, type NatsServer, type TestDatabase } from '@ticketing/testing';
import { enqueueEvent, startOutboxRelay, type OutboxRelay } from '../src/outbox.js';
import { MIGRATIONS } from '../src/schema.js';
import { startFakeJetStream, type FakeJetStream } from './outbox-fake-jetstream.js';

const logger = silentLogger();
/** Undone after each test, last first. */
let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

interface World {
  testDb: TestDatabase;
  db: Database;
  nats: NatsServer;
  fake: FakeJetStream;
}

/** A fresh auth database, and a nats-server whose `auth.>` publishes reach a fake JetStream. */
async function world(): Promise<World> {
  const testDb = await createTestDatabase();
  cleanups.push(() => testDb.drop());
  const db = await openDatabase({ url: testDb.url, dataDir: '', logger });
  cleanups.push(() => db.close());
  await migrate(db, { service: 'auth', migrations: MIGRATIONS });
  const nats = await startNatsServer();
  cleanups.push(() => nats.destroy());
  const fake = await startFakeJetStream(nats.url);
  cleanups.push(() => fake.close());
  return { testDb, db, nats, fake };
}

/** Another database handle (pool) on the same database, as another auth replica would have. */
async function anotherPool(testDb: TestDatabase): Promise<Database> {
  const db = await openDatabase({ url: testDb.url, dataDir: '', logger });
  cleanups.push(() => db.close().catch(() => undefined));
  return db;
}

/** A NATS client of its own, connected. */
async function natsClient(url: string): Promise<NatsClient> {
  const client = connectNats({ url, name: `relay-${randomUUID().slice(0, 8)}`, logger, retryDelayMs: 100 });
  cleanups.push(() => client.close());
  await client.connection();
  return client;
}

function relay(options: Parameters<typeof startOutboxRelay>[0]): OutboxRelay {
  const started = startOutboxRelay(options);
  cleanups.push(() => started.stop());
  return started;
}

/** Commits `count` ban events, one transaction each; resolves with their ids in commit (seq) order. */
async function enqueue(db: Database, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    await db.transaction((tx) => enqueueEvent(tx, { subject: Subjects.UserBanned, payload: { id, userId: randomUUID(), bannedAt: new Date().toISOString(), reason: 'r', version: 1 } }));
    ids.push(id);
  }
  return ids;
}

async function pendingIds(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM outbox WHERE published_at IS NULL ORDER BY seq');
  return rows.map((row) => row.id);
}

async function lease(db: Database): Promise<{ holder: string | null; remaining_ms: number }> {
  const { rows } = await db.query<{ holder: string | null; remaining_ms: number }>(
    'SELECT holder, (EXTRACT(EPOCH FROM expires_at - now()) * 1000)::float8 AS remaining_ms FROM outbox_relay_lease',
  );
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe('an outbox relay waiting on NATS', () => {
  it('holds no transaction, row lock or pooled connection while a publish waits for its acknowledgement', async () => {
    const { testDb, db, nats, fake } = await world();
    const ids = await enqueue(db, 2);
    const relayA = relay({ db, nats: await natsClient(nats.url), logger, intervalMs: 60_000, publishTimeoutMs: 20_000 });
    // Two users' events: sent together, in order, each waiting for its ack.
    await waitFor(() => fake.received.length === 2, { what: 'the relay to publish both rows' });
    expect(fake.received.map((publish) => publish.msgId)).toEqual(ids);

    // The publish hangs; meanwhile another connection locks both pending rows without waiting.
    const other = await anotherPool(testDb);
    const { rows: locked } = await other.transaction((tx) => tx.query<{ id: string }>('SELECT id FROM outbox WHERE published_at IS NULL ORDER BY seq FOR UPDATE NOWAIT'));
    expect(locked.map((row) => row.id)).toEqual(ids);
    // No session on this database is in a transaction or busy, but the one asking.
    const { rows: sessions } = await other.query<{ state: string | null }>(
      'SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.filter((session) => session.state !== 'idle')).toEqual([]);
    await expect(db.query('SELECT 1 AS one')).resolves.toEqual({ rows: [{ one: 1 }] });
    // The turn is held, by the database's clock, for at least 3 publish timeouts.
    const held = await lease(other);
    expect(held.holder).not.toBeNull();
    expect(held.remaining_ms).toBeGreaterThan(30_000);

    fake.ackAll();
    await waitFor(async () => (await pendingIds(db)).length === 0, { what: 'the relay to finish once acknowledged' });
    await relayA.stop();
    expect(fake.received.map((publish) => publish.msgId)).toEqual(ids);
    expect((await lease(db)).holder).toBeNull();
  });

  it('when NATS stops mid-publish, holds nothing in the database while it waits, then releases the lease and publishes once NATS is back', async () => {
    const { testDb, db, nats, fake } = await world();
    const ids = await enqueue(db, 2);
    relay({ db, nats: await natsClient(nats.url), logger, intervalMs: 100, publishTimeoutMs: 3_000 });
    await waitFor(() => fake.received.length === 2, { what: 'the relay to publish both rows' });
    await nats.stop();

    const other = await anotherPool(testDb);
    const { rows: locked } = await other.transaction((tx) => tx.query<{ id: string }>('SELECT id FROM outbox WHERE published_at IS NULL ORDER BY seq FOR UPDATE NOWAIT'));
    expect(locked.map((row) => row.id)).toEqual(ids);
    const { rows: busy } = await other.query(
      "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'",
    );
    expect(busy).toEqual([]);
    // Still the same pass: it holds the lease until its publish times out.
    expect((await lease(other)).holder).not.toBeNull();

    await waitFor(async () => (await lease(db)).holder === null, { what: 'the failed pass to release the lease' });
    expect(await pendingIds(db)).toEqual(ids);
    fake.ackAll();
    await nats.start();
    await waitFor(async () => (await pendingIds(db)).length === 0, { timeoutMs: 20_000, what: 'the relay to publish once NATS is back' });
    // Both rows went out again, in order (the stream would drop copies by their message ids).
    expect([...new Set(fake.received.map((publish) => publish.msgId))]).toEqual(ids);
    expect(fake.received.slice(2).map((publish) => publish.msgId)).toEqual(ids);
  });

  it('on embedded PGlite, publishes in order, and queries answer while a publish waits', async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.destroy());
    const fake = await startFakeJetStream(nats.url);
    cleanups.push(() => fake.close());
    const db = await openDatabase({ url: undefined, dataDir: 'memory://', logger });
    cleanups.push(() => db.close());
    await migrate(db, { service: 'auth', migrations: MIGRATIONS });
    const ids = await enqueue(db, 3);
    relay({ db, nats: await natsClient(nats.url), logger, intervalMs: 60_000, publishTimeoutMs: 20_000, batchSize: 2 });
    await waitFor(() => fake.received.length === 2, { what: 'the relay to publish the first batch' });
    await expect(db.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).resolves.toEqual({ rows: [{ n: 3 }] });

    fake.ackAll();
    await waitFor(async () => (await pendingIds(db)).length === 0, { what: 'the relay to finish once acknowledged' });
    expect(fake.received.map((publish) => publish.msgId)).toEqual(ids);
    await waitFor(async () => (await lease(db)).holder === null, { what: 'the lease to be released after the pass' });
  });
});

describe('an outbox relay sending a batch', () => {
  it('sends it in runs in which no user appears twice: a user\'s next event waits until the run before it is acked', async () => {
    const { db, nats, fake } = await world();
    const [u1, u2, u3] = [randomUUID(), randomUUID(), randomUUID()];
    const ids: string[] = [];
    for (const userId of [u1, u2, u1, u3]) {
      const id = randomUUID();
      await db.transaction((tx) => enqueueEvent(tx, { subject: Subjects.UserBanned, payload: { id, userId, bannedAt: new Date().toISOString(), reason: 'r', version: ids.length + 1 } }));
      ids.push(id);
    }
    const relayed = relay({ db, nats: await natsClient(nats.url), logger, intervalMs: 60_000 });
    await waitFor(() => fake.received.length === 2, { what: 'the first run (u1, u2) to be sent' });
    const ackedAt = performance.now();
    fake.ackAll();
    await waitFor(async () => (await pendingIds(db)).length === 0, { what: 'the second run to be sent and acked' });
    await relayed.stop();
    expect(fake.received.map((publish) => publish.msgId)).toEqual(ids);
    expect(fake.received[2]!.receivedAt).toBeGreaterThanOrEqual(ackedAt);
    expect(fake.received[3]!.receivedAt).toBeGreaterThanOrEqual(ackedAt);
  });

  it('sends again at once when NATS comes back, rather than wait out the publish timeout and a rest', async () => {
    const { db, nats, fake } = await world();
    const ids = await enqueue(db, 3);
    const publishTimeoutMs = 30_000;
    relay({ db, nats: await natsClient(nats.url), logger, intervalMs: 60_000, publishTimeoutMs });
    await waitFor(() => fake.received.length === 3, { what: 'the relay to send the batch' });
    // The server restarts: those publishes will never be acked.
    await nats.stop();
    await nats.start();
    fake.ackAll();
    const back = performance.now();
    await waitFor(async () => (await pendingIds(db)).length === 0, { timeoutMs: publishTimeoutMs / 3, what: 'the relay to send the batch again once NATS is back' });
    expect(performance.now() - back).toBeLessThan(publishTimeoutMs / 3);
    expect(fake.received.slice(3).map((publish) => publish.msgId)).toEqual(ids);
  });
});

describe('several outbox relays', () => {
  it('never publish at the same time, and publish every row once in seq order', async () => {
    const { testDb, db, nats, fake } = await world();
    fake.ackAll(2);
    const first = await enqueue(db, 20);
    const relays = [];
    for (let i = 0; i < 3; i++) {
      relays.push(relay({ db: await anotherPool(testDb), nats: await natsClient(nats.url), logger, intervalMs: 10, batchSize: 3 }));
    }
    // More commits while they run, each kicking every relay as a commit on any replica would.
    const more: string[] = [];
    for (let i = 0; i < 10; i++) {
      more.push(...(await enqueue(db, 2)));
      for (const each of relays) each.kick();
    }
    await waitFor(async () => (await pendingIds(db)).length === 0, { timeoutMs: 20_000, what: 'the relays to drain 40 rows' });
    // Each relay sends a batch at once, but never two relays at a time.
    expect(fake.maxSendersInFlight()).toBe(1);
    expect(fake.maxInFlight()).toBeGreaterThan(1);
    expect(fake.received.map((publish) => publish.msgId)).toEqual([...first, ...more]);
  });

  it('a relay whose lease expired and was taken over mid-publish stops after that publish; the new holder carries on', async () => {
    const { testDb, db, nats, fake } = await world();
    const ids = await enqueue(db, 3);
    // One row a batch, so that a single publish is in flight when the lease passes on.
    const stalled = relay({ db, nats: await natsClient(nats.url), logger, intervalMs: 60_000, publishTimeoutMs: 20_000, batchSize: 1 });
    await waitFor(() => fake.received.length === 1, { what: 'the first relay to publish' });
    const stalledSender = fake.received[0]!.sender;

    // As if that relay's process had been paused past its lease (a GC pause, a frozen VM).
    await db.query("UPDATE outbox_relay_lease SET expires_at = now() - interval '1 second'");
    const successor = relay({ db: await anotherPool(testDb), nats: await natsClient(nats.url), logger, intervalMs: 60_000, publishTimeoutMs: 20_000, batchSize: 1 });
    await waitFor(() => fake.received.length === 2, { what: 'the second relay to take over and publish' });
    const successorSender = fake.received[1]!.sender;
    expect(successorSender).not.toBe(stalledSender);
    expect(fake.received[1]!.msgId).toBe(ids[0]);

    // The stalled publish is acknowledged: the row is marked, the renewal finds the lease gone, the pass ends.
    fake.received[0]!.ack();
    await expect(stalled.relayPending()).resolves.toBe(1);
    await stalled.relayPending(); // the follow-up pass finds the lease held by the successor
    expect(fake.received.filter((publish) => publish.sender === stalledSender).map((publish) => publish.msgId)).toEqual([ids[0]]);

    fake.ackAll();
    await waitFor(async () => (await pendingIds(db)).length === 0, { what: 'the successor to publish the rest' });
    await successor.stop();
    await stalled.stop();
    expect(fake.received.filter((publish) => publish.sender === stalledSender).map((publish) => publish.msgId)).toEqual([ids[0]]);
    // The successor republished the first row (the stream drops it by message id), then the rest in order.
    expect(fake.received.filter((publish) => publish.sender === successorSender).map((publish) => publish.msgId)).toEqual(ids);
  });

  it('a relay that died holding the lease is taken over once the lease expires', async () => {
    const { testDb, db, nats, fake } = await world();
    const ids = await enqueue(db, 2);
    const crashedDb = await anotherPool(testDb);
    const crashed = relay({ db: crashedDb, nats: await natsClient(nats.url), logger, intervalMs: 60_000, publishTimeoutMs: 1_000, leaseMs: 4_000, batchSize: 1 });
    await waitFor(() => fake.received.length === 1, { what: 'the doomed relay to publish' });
    // It dies mid-publish: nothing it sends reaches the database again, so it never releases the lease.
    await crashedDb.close();
    const before = performance.now();
    const { holder, remaining_ms: remainingMs } = await lease(db);
    expect(holder).not.toBeNull();
    expect(remainingMs).toBeGreaterThan(0);
    const expiresBy = before + remainingMs;

    fake.ackAll();
    const successor = relay({ db, nats: await natsClient(nats.url), logger, intervalMs: 50 });
    await waitFor(async () => (await pendingIds(db)).length === 0, { timeoutMs: 20_000, what: 'the successor to publish after the lease expired' });
    await successor.stop();
    await crashed.stop();
    const published = fake.received.slice(1);
    expect(published.map((publish) => publish.msgId)).toEqual(ids);
    for (const publish of published) expect(publish.receivedAt).toBeGreaterThanOrEqual(expiresBy);
    expect((await lease(db)).holder).toBeNull();
  });

  it('a relay whose publishes go unacknowledged gives way, so a healthy relay takes the lease and publishes', async () => {
    const { testDb, db, nats, fake } = await world();
    // B's NATS has the real AUTH stream; A's publishes reach the fake, which never acknowledges them.
    const healthyNats = await startNatsServer();
    cleanups.push(() => healthyNats.destroy());
    const healthyClient = await natsClient(healthyNats.url);
    await ensureAuthStream(await jetstreamManager(await healthyClient.connection()), { windowMs: 0 });
    const [id] = await enqueue(db, 1);
    const publishTimeoutMs = 500;
    const intervalMs = 100;
    relay({ db, nats: await natsClient(nats.url), logger, intervalMs, publishTimeoutMs, leaseMs: 3 * publishTimeoutMs });
    await waitFor(() => fake.received.length === 1, { what: 'the failing relay to take the lease and publish' });

    relay({ db: await anotherPool(testDb), nats: healthyClient, logger, intervalMs, publishTimeoutMs, leaseMs: 3 * publishTimeoutMs });
    await waitFor(async () => (await pendingIds(db)).length === 0, {
      timeoutMs: 5 * (publishTimeoutMs + intervalMs),
      what: 'the healthy relay to take the lease and publish',
    });
    const { state } = await (await jetstreamManager(await healthyClient.connection())).streams.info(AUTH_STREAM);
    expect(state.messages).toBe(1);
    const stored = await (await jetstreamManager(await healthyClient.connection())).streams.getMessage(AUTH_STREAM, { seq: state.first_seq });
    expect(stored?.header?.get('Nats-Msg-Id')).toBe(id);
    // The failing relay tried once, then kept off the lease rather than take it straight back.
    expect(fake.received.map((publish) => publish.msgId)).toEqual([id]);
  });

  it('refuses a lease shorter than three publish timeouts', async () => {
    const { db, nats } = await world();
    const nc = await natsClient(nats.url);
    expect(() => startOutboxRelay({ db, nats: nc, logger, publishTimeoutMs: 5_000, leaseMs: 10_000 })).toThrow(TypeError);
  });
});
