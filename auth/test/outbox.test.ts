import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { AUTH_STREAM, connectNats, Subjects, type Database } from '@ticketing/common';
import { freePort, silentLogger, startNatsServer, waitFor, type NatsServer } from '@ticketing/testing';
import { enqueueEvent, startOutboxRelay } from '../src/outbox.js';
import { signup } from './signup.js';
import { ADMIN_EMAIL, startAuth, type TestAuth } from './start-auth.js';

async function signupAdminAndUser(auth: TestAuth, email: string) {
  const admin = await signup(auth, ADMIN_EMAIL);
  const user = await signup(auth, email);
  return { adminCookie: admin.cookie, userId: user.id };
}

async function pendingIds(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM outbox WHERE published_at IS NULL ORDER BY seq');
  return rows.map((row) => row.id);
}

/** Every message in the AUTH stream, in stream order. */
async function streamEvents(natsUrl: string): Promise<{ subject: string; msgId: string | undefined; payload: Record<string, unknown> }[]> {
  const nc: NatsConnection = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(AUTH_STREAM);
    const out = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(AUTH_STREAM, { seq });
      if (msg === null) continue;
      out.push({ subject: msg.subject, msgId: msg.header?.get('Nats-Msg-Id'), payload: msg.json<Record<string, unknown>>() });
    }
    return out;
  } finally {
    await nc.close();
  }
}

describe('with NATS down', () => {
  let nats: NatsServer;
  let auth: TestAuth;
  beforeAll(async () => {
    nats = await startNatsServer();
    auth = await startAuth({ NATS_URL: nats.url });
  });
  afterAll(async () => {
    await auth.close();
    await nats.destroy();
  });

  it('a ban still answers 200 at once, and its event is published once NATS is back', async () => {
    const { adminCookie, userId } = await signupAdminAndUser(auth, 'outage@example.com');
    await nats.stop();
    await waitFor(() => !auth.deps.nats.isConnected(), { what: 'the client to notice the outage' });

    const res = await request(auth.app).post(`/api/admin/users/${userId}/ban`).set('Cookie', adminCookie).send({ reason: 'outage' });
    expect(res.status).toBe(200);
    const [eventId] = await pendingIds(auth.db);
    expect(eventId).toBeDefined();
    await auth.relay!.relayPending();
    expect(await pendingIds(auth.db)).toEqual([eventId]);
    const metrics = { text: await auth.deps.metrics.registry.metrics() };
    expect(metrics.text).toMatch(/^outbox_pending_rows\{[^}]*\} 1$/m);

    await nats.start();
    await waitFor(async () => (await pendingIds(auth.db)).length === 0, { timeoutMs: 20_000, what: 'the relay to publish after NATS returned' });
    const events = await streamEvents(nats.url);
    expect(events).toEqual([{ subject: Subjects.UserBanned, msgId: eventId, payload: expect.objectContaining({ userId, version: 1 }) }]);
    // The service's own ban sync picked it up too.
    await waitFor(() => auth.deps.banSync.bans.isBanned(userId, Date.now() - 60_000), { timeoutMs: 20_000, what: 'ban sync to apply the event' });
  });
});

describe('a relay that stopped between commit and publish', () => {
  let auth: TestAuth;
  beforeAll(async () => {
    auth = await startAuth({}, { relay: false });
  });
  afterAll(() => auth.close());

  it('leaves the committed event pending; a relay started later publishes it', async () => {
    const { adminCookie, userId } = await signupAdminAndUser(auth, 'crash@example.com');
    await request(auth.app).post(`/api/admin/users/${userId}/ban`).set('Cookie', adminCookie).send({ reason: 'crash' }).expect(200);
    const pending = await pendingIds(auth.db);
    expect(pending).toHaveLength(1);
    expect(await streamEvents(auth.config.natsUrl)).toEqual([]);

    const restarted = startOutboxRelay({ db: auth.db, nats: auth.deps.nats, logger: silentLogger() });
    try {
      await waitFor(async () => (await pendingIds(auth.db)).length === 0, { what: 'the restarted relay to publish' });
    } finally {
      await restarted.stop();
    }
    expect((await streamEvents(auth.config.natsUrl)).map((event) => event.msgId)).toEqual(pending);
  });

  it('refuses to enqueue an event its consumers would skip as malformed, rolling back its transaction', async () => {
    const userId = randomUUID();
    const bad = { subject: Subjects.UserBanned, payload: { id: randomUUID(), userId: 'not-a-uuid', bannedAt: new Date().toISOString(), reason: 'x', version: 1 } } as const;
    await expect(auth.db.transaction(async (tx) => {
      await tx.query("INSERT INTO users (id, email, password_hash, role) VALUES ($1, 'rolled-back@example.com', 'x', 'user')", [userId]);
      await enqueueEvent(tx, bad);
    })).rejects.toThrow(/invalid auth\.user\.banned event: userId/);
    expect((await auth.db.query('SELECT id FROM users WHERE id = $1', [userId])).rows).toEqual([]);
    const upper = { subject: Subjects.UserBanned, payload: { ...bad.payload, userId: userId.toUpperCase() } } as const;
    await auth.db.transaction((tx) => enqueueEvent(tx, upper));
    const { rows } = await auth.db.query<{ payload: { userId: string } }>('SELECT payload FROM outbox WHERE id = $1', [upper.payload.id]);
    expect(rows[0]!.payload.userId).toBe(userId);
    await auth.db.query('DELETE FROM outbox WHERE id = $1', [upper.payload.id]);
  });

  it('an event published but not marked (a crash after publish) is dropped by the stream when sent again', async () => {
    const id = randomUUID();
    const payload = { id, userId: randomUUID(), bannedAt: new Date().toISOString(), reason: 'dup', version: 1 };
    await auth.db.transaction((tx) => enqueueEvent(tx, { subject: Subjects.UserBanned, payload }));
    const nc = await auth.deps.nats.connection();
    await jetstream(nc).publish(Subjects.UserBanned, JSON.stringify(payload), { msgID: id });
    const before = (await streamEvents(auth.config.natsUrl)).length;

    const relay = startOutboxRelay({ db: auth.db, nats: auth.deps.nats, logger: silentLogger() });
    try {
      await waitFor(async () => (await pendingIds(auth.db)).length === 0, { what: 'the relay to mark it' });
    } finally {
      await relay.stop();
    }
    const events = await streamEvents(auth.config.natsUrl);
    expect(events).toHaveLength(before);
    expect(events.filter((event) => event.msgId === id)).toHaveLength(1);
  });

  it('deletes published rows older than the retention, and keeps pending ones however old', async () => {
    const [published, pending] = [randomUUID(), randomUUID()];
    for (const id of [published, pending]) {
      await auth.db.transaction((tx) => enqueueEvent(tx, { subject: Subjects.UserUnbanned, payload: { id, userId: randomUUID(), unbannedAt: new Date().toISOString(), version: 2 } }));
    }
    await auth.db.query("UPDATE outbox SET created_at = now() - interval '30 days' WHERE id = ANY($1)", [[published, pending]]);
    await auth.db.query("UPDATE outbox SET published_at = now() - interval '8 days' WHERE id = $1", [published]);
    // A relay whose NATS is unreachable: it only measures and prunes.
    const unreachable = connectNats({ url: `nats://127.0.0.1:${await freePort()}`, name: 'unreachable', logger: silentLogger() });
    const relay = startOutboxRelay({ db: auth.db, nats: unreachable, logger: silentLogger() });
    try {
      await waitFor(async () => {
        const { rows } = await auth.db.query<{ id: string }>('SELECT id FROM outbox WHERE id = ANY($1)', [[published, pending]]);
        return rows.length === 1 && rows[0]!.id === pending;
      }, { what: 'the old published row to be pruned' });
    } finally {
      await relay.stop();
      await unreachable.close();
    }
    await auth.db.query('DELETE FROM outbox WHERE id = $1', [pending]);
  });

  it('several relays at once publish every pending event exactly once, in seq order, so each user\'s events in order', async () => {
    const before = (await streamEvents(auth.config.natsUrl)).length;
    const users = Array.from({ length: 20 }, () => randomUUID());
    const ids: string[] = [];
    await auth.db.transaction(async (tx) => {
      for (let version = 1; version <= 10; version++) {
        for (const userId of users) {
          const id = randomUUID();
          ids.push(id);
          const at = new Date().toISOString();
          await enqueueEvent(tx, version % 2 === 1
            ? { subject: Subjects.UserBanned, payload: { id, userId, bannedAt: at, reason: 'r', version } }
            : { subject: Subjects.UserUnbanned, payload: { id, userId, unbannedAt: at, version } });
        }
      }
    });
    const relays = Array.from({ length: 3 }, () => startOutboxRelay({ db: auth.db, nats: auth.deps.nats, logger: silentLogger(), batchSize: 7 }));
    try {
      await waitFor(async () => (await pendingIds(auth.db)).length === 0, { timeoutMs: 20_000, what: 'the relays to drain 200 events' });
    } finally {
      await Promise.all(relays.map((relay) => relay.stop()));
    }
    const events = (await streamEvents(auth.config.natsUrl)).slice(before);
    expect(events).toHaveLength(200);
    // Each exactly once, in seq order.
    expect(events.map((event) => event.msgId)).toEqual(ids);
    // In commit order: every user's versions arrive 1, 2, ... 10.
    for (const userId of users) {
      expect(events.filter((event) => event.payload.userId === userId).map((event) => event.payload.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
  });
});
