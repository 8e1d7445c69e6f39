import { afterAll, beforeAll, expect, it } from 'vitest';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { AUTH_STREAM, Subjects } from '@ticketing/common/events';
import { createTestDatabase, postJson, startNatsCluster, TEST_JWT_KEY, waitFor, type NatsCluster, type TestDatabase } from '@ticketing/testing';
import { startService, type ServiceProcess } from './service-process.js';
import { signup } from './signup.js';
import { appliedBans, refusesAll, streamBans, usersWithTokens } from './support/faults.js';

// Two auth replicas and two orders replicas, real processes, on a 3-node JetStream cluster on
// loopback with the AUTH stream at 3 replicas; bans in bursts through both auths while the
// stream's leader is killed, and an orders replica that starts in the middle of a burst.
let cluster: NatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
let authDb: TestDatabase;
let authSql: pg.Pool;
let ordersDb: TestDatabase;
let auths: ServiceProcess[] = [];
let orders: ServiceProcess[] = [];
const late: ServiceProcess[] = [];
let admin: { id: string; cookie: string };

const env = () => ({ JWT_KEY: TEST_JWT_KEY, NATS_URL: cluster.url, ADMIN_EMAILS: 'admin@example.com', AUTH_RATE_LIMIT: '1000' });
const startAuth = () => startService('auth', { ...env(), DATABASE_URL: authDb.url, AUTH_STREAM_REPLICAS: '3' });
const startOrders = () => startService('orders', { ...env(), DATABASE_URL: ordersDb.url });

beforeAll(async () => {
  [cluster, authDb, ordersDb] = await Promise.all([startNatsCluster(), createTestDatabase(), createTestDatabase()]);
  authSql = new pg.Pool({ connectionString: authDb.url, max: 2 });
  nc = await connect({ servers: cluster.url.split(',') });
  jsm = await jetstreamManager(nc);
  auths = await Promise.all([startAuth(), startAuth()]);
  orders = await Promise.all([startOrders(), startOrders()]);
  admin = await signup(auths[0]!.url, 'admin@example.com');
}, 120_000);
afterAll(async () => {
  await Promise.all([...auths, ...orders, ...late].map((service) => service.stop()));
  await nc?.close();
  await authSql?.end();
  await Promise.all([cluster?.destroy(), authDb?.drop(), ordersDb?.drop()]);
});

/** Bans every user, `concurrency` at a time, alternating between the auth replicas; `onProgress` hears each answer. */
async function banAll<U extends { id: string }>(users: readonly U[], onProgress: (answered: U[]) => Promise<void> | void = () => undefined): Promise<void> {
  let next = 0;
  const answered: U[] = [];
  const worker = async () => {
    while (next < users.length) {
      const user = users[next]!;
      const auth = auths[next++ % auths.length]!;
      const res = await postJson(`${auth.url}/api/admin/users/${user.id}/ban`, { reason: 'burst' }, admin.cookie);
      expect(res.status).toBe(200);
      answered.push(user);
      await onProgress(answered);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

it('keeps the AUTH stream on 3 nodes', async () => {
  const info = await jsm.streams.info(AUTH_STREAM);
  expect(info.config.num_replicas).toBe(3);
  expect(info.cluster?.leader).toMatch(/^n[0-2]$/);
  expect(info.cluster?.replicas).toHaveLength(2);
});

it('a burst of bans through both auths while the stream leader is killed reaches both orders replicas, each event once, and the killed node rejoins', async () => {
  const users = await usersWithTokens(authSql, 200, 'burst');
  let killed: string | undefined;
  await banAll(users, async (answered) => {
    if (answered.length !== 60) return;
    killed = (await jsm.streams.info(AUTH_STREAM)).cluster!.leader!;
    await cluster.node(killed).kill();
  });
  expect(killed).toBeDefined();
  for (const service of orders) await refusesAll(service, users, 60_000);

  // Published once each (the relays take turns through a lease, and the stream drops a repeated
  // event id). Events of one user keep their order (the user's row lock orders their transactions);
  // across users, transactions that overlap commit in any order.
  const { rows } = await authSql.query<{ id: string }>('SELECT id FROM outbox WHERE subject = $1 ORDER BY seq', [Subjects.UserBanned]);
  expect(rows).toHaveLength(200);
  const published = await waitFor(async () => {
    const bans = await streamBans(cluster.url);
    return bans.length === 200 ? bans : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500, what: 'the stream to hold the 200 bans' });
  expect(new Set(published.map((ban) => ban.id)).size).toBe(200);
  expect(published.map((ban) => ban.id).sort()).toEqual(rows.map((row) => row.id).sort());
  // Applied once each on every replica: a redelivered one would count as stale.
  for (const service of orders) {
    expect(await appliedBans(service, 'applied')).toBe(200);
    expect(await appliedBans(service, 'stale')).toBe(0);
  }

  // The killed node rejoins and catches up.
  await cluster.node(killed!).start();
  await waitFor(async () => {
    const { cluster: state } = await jsm.streams.info(AUTH_STREAM);
    return state?.replicas?.length === 2 && state.replicas.every((replica) => replica.current && replica.offline !== true && (replica.lag ?? 0) === 0)
      && [state.leader, ...state.replicas.map((replica) => replica.name)].includes(killed!);
  }, { timeoutMs: 60_000, intervalMs: 500, what: `node ${killed} to rejoin the stream and catch up` });
}, 180_000);

it('an orders replica started during a burst of 1 000 bans refuses every banned user once ready', async () => {
  const users = await usersWithTokens(authSql, 1_000, 'replay');
  let replica: Promise<ServiceProcess> | undefined;
  let bannedBeforeStart: { id: string; token: string }[] = [];
  let streamedBeforeStart = 0;
  const burst = banAll(users, async (answered) => {
    if (answered.length !== 300) return;
    bannedBeforeStart = [...answered];
    // What the stream holds as the replica starts; bans still in auth's outbox come live.
    streamedBeforeStart = (await jsm.streams.info(AUTH_STREAM)).state.last_seq;
    replica = startOrders();
  });
  const fresh = await waitFor(() => replica, { what: 'the 300th ban' }).then((starting) => starting);
  late.push(fresh);
  // The moment it is ready, with no waiting.
  const firstAnswers = await Promise.all(bannedBeforeStart.map(async (user) => (await fetch(`${fresh.url}/api/orders`, { headers: { authorization: `Bearer ${user.token}` } })).status));
  await burst;
  await refusesAll(fresh, users, 60_000);
  // Every ban the stream held when it started was replayed before it said ready: refused on the first try.
  const seqOf = new Map((await streamBans(cluster.url)).map((ban) => [ban.userId, ban.seq]));
  const replayed = bannedBeforeStart.filter((user) => seqOf.get(user.id)! <= streamedBeforeStart);
  expect(replayed.length).toBeGreaterThan(100);
  expect(bannedBeforeStart.filter((user, index) => seqOf.get(user.id)! <= streamedBeforeStart && firstAnswers[index] !== 403)).toEqual([]);
  for (const service of orders) await refusesAll(service, users, 60_000);
  expect(await appliedBans(fresh, 'stale')).toBe(0);
}, 180_000);
