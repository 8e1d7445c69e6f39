import { afterEach, expect, it } from 'vitest';
import pg from 'pg';
import {
  createTestDatabase, postJson, startNatsServer, startPostgresServer, TEST_JWT_KEY, waitFor, type NatsServer, type ServiceProcess,
} from '@ticketing/testing';
import { startService } from './service-process.js';
import { signup } from './signup.js';
import {
  appliedBans, banAll, expectEachBanAppliedOnce, expectEachBanPublishedOnce, expectStopsCleanly, killService, logLines, metric,
  ordersStatus, outboxBans, refusesAll, signer, streamBans, usersWithTokens, type TokenUser,
} from './support/faults.js';

// Faults against the built services as real processes: NATS, auth and PostgreSQL taken away under
// traffic, and the ban list overfilled. Each test starts servers of its own (a nats-server, its
// databases, or a whole PostgreSQL cluster it may stop), so any one runs alone and none touches
// the shared servers. Every test checks the same promise at the end: each ban made is in auth's
// outbox once, in the stream once, applied once by every orders replica, and no process failed.

/** What a test started, stopped in reverse order once it ends, passed or failed. */
const teardown: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  const failures: unknown[] = [];
  for (const step of teardown.splice(0).reverse()) await step().catch((err: unknown) => failures.push(err));
  if (failures.length > 0) throw new AggregateError(failures, 'cleanup failed');
});

interface System {
  nats: NatsServer;
  /** A connection to auth's database, to read its outbox and make users. */
  authSql: pg.Pool;
  auth: ServiceProcess;
  orders: ServiceProcess[];
  admin: { id: string; cookie: string };
  /** Another auth process on the same database. */
  startAuth(): Promise<ServiceProcess>;
  /** Another orders replica on the same database. */
  startOrders(): Promise<ServiceProcess>;
}

/**
 * A nats-server, auth and `replicas` orders processes, each service on a database of its own on
 * `postgresUrl`'s server (the shared test server by default), and an admin signed up.
 */
async function startSystem(options: { replicas: number; postgresUrl?: string; ordersEnv?: Record<string, string> }): Promise<System> {
  const nats = await startNatsServer();
  teardown.push(() => nats.destroy());
  const [authDb, ordersDb] = await Promise.all([createTestDatabase(options.postgresUrl), createTestDatabase(options.postgresUrl)]);
  teardown.push(() => authDb.drop(), () => ordersDb.drop());
  const authSql = new pg.Pool({ connectionString: authDb.url, max: 2 });
  // An idle connection whose server is stopped reports it here; unheard, it would end the test run.
  authSql.on('error', () => undefined);
  teardown.push(() => authSql.end());
  const env = { JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url, ADMIN_EMAILS: 'admin@example.com', AUTH_RATE_LIMIT: '1000' };
  const tracked = async (starting: Promise<ServiceProcess>) => {
    const service = await starting;
    teardown.push(() => service.stop());
    return service;
  };
  const startAuth = () => tracked(startService('auth', { ...env, DATABASE_URL: authDb.url }));
  const startOrders = () => tracked(startService('orders', { ...env, DATABASE_URL: ordersDb.url, ...options.ordersEnv }));
  const [auth, ...orders] = await Promise.all([startAuth(), ...Array.from({ length: options.replicas }, startOrders)]);
  const admin = await signup(auth!.url, 'admin@example.com');
  return { nats, authSql, auth: auth!, orders, admin, startAuth, startOrders };
}

const natsConnected = (service: ServiceProcess) => metric(service, /^nats_connected[{ ]/);
const pendingBans = async (authSql: pg.Pool) => (await outboxBans(authSql)).filter((row) => !row.published);

it('NATS stopped during a burst of bans and started again: every ban reaches both orders replicas once, and no process fails', async () => {
  const { nats, authSql, auth, orders, admin } = await startSystem({ replicas: 2 });
  const users = await usersWithTokens(authSql, 80, 'burst');

  let outage: Promise<void> | undefined;
  const stopNats = async () => {
    await nats.stop();
    await waitFor(async () => (await natsConnected(auth)) === 0, { what: 'auth to see NATS gone' });
  };
  await banAll(auth.url, admin.cookie, users, {
    afterAnswer: async (answered) => {
      if (answered === 20) outage = stopNats();
      // The bans sent meanwhile race the stop; from the 40th answer on no worker sends another
      // until auth has lost NATS, so at least 80 - 39 - 8 of them are made with NATS down.
      if (answered >= 40) await outage;
    },
  });
  // Committed and answered, but waiting in the outbox: at least the ones made after the stop.
  expect((await pendingBans(authSql)).length).toBeGreaterThanOrEqual(33);
  for (const service of orders) {
    await waitFor(async () => (await natsConnected(service)) === 0, { what: 'orders to see NATS gone' });
    // Still serving from the ban list it holds: every answer a 200 or a 403, none an error.
    const statuses = await Promise.all(users.map((user) => ordersStatus(service, user.token)));
    expect(statuses.filter((status) => status !== 200 && status !== 403)).toEqual([]);
  }

  await nats.start();
  for (const service of orders) await refusesAll(service, users);
  await expectEachBanPublishedOnce(authSql, nats.url, users);
  for (const service of orders) {
    await expectEachBanAppliedOnce(service, users.length);
    expect(await natsConnected(service)).toBe(1);
  }
  for (const service of [auth, ...orders]) await expectStopsCleanly(service);
});

it('auth killed with SIGKILL between commit and publish: a new auth process on its database publishes each pending ban exactly once', async () => {
  const system = await startSystem({ replicas: 2 });
  const { nats, authSql, auth, orders, admin } = system;
  const users = await usersWithTokens(authSql, 60, 'crash');
  const published = users.slice(0, 20);
  const committed = users.slice(20);

  await banAll(auth.url, admin.cookie, published);
  await waitFor(async () => (await pendingBans(authSql)).length === 0 && (await outboxBans(authSql)).length === 20, { what: 'the first bans to be published' });
  // With NATS unreachable the relay cannot publish, so what is banned next stays committed only.
  await nats.stop();
  await waitFor(async () => (await natsConnected(auth)) === 0, { what: 'auth to see NATS gone' });
  await banAll(auth.url, admin.cookie, committed);
  expect((await pendingBans(authSql)).map((row) => row.userId).sort()).toEqual(committed.map((user) => user.id).sort());

  expect(await killService(auth)).toBeNull();
  await nats.start();
  // The crash lost nothing: the rows it had not published are still there, still pending.
  expect((await pendingBans(authSql)).map((row) => row.userId).sort()).toEqual(committed.map((user) => user.id).sort());

  const restarted = await system.startAuth();
  for (const service of orders) await refusesAll(service, users);
  await expectEachBanPublishedOnce(authSql, nats.url, users);
  // The new process sent the 40 it found pending and nothing the dead one had sent already.
  expect(await metric(restarted, /^outbox_published_total[{ ]/)).toBe(committed.length);
  expect(await metric(restarted, /^outbox_publish_failures_total[{ ]/)).toBe(0);
  for (const service of orders) await expectEachBanAppliedOnce(service, users.length);
  for (const service of [restarted, ...orders]) await expectStopsCleanly(service);
});

type Phase = 'up' | 'changing' | 'down' | 'recovered';
interface Answer {
  phase: Phase;
  what: 'list' | 'create' | 'banned';
  status: number | 'error';
  body: unknown;
}

it('PostgreSQL stopped and started under load: 503 with the error body meanwhile, recovery without a restart, and every ban reaches both replicas', async () => {
  const pgServer = await startPostgresServer();
  teardown.push(() => pgServer.destroy());
  const { nats, authSql, auth, orders, admin } = await startSystem({ replicas: 2, postgresUrl: pgServer.url });
  const users = await usersWithTokens(authSql, 31, 'pg');
  const [customer, ...rest] = users as [TokenUser, ...TokenUser[]];
  const bannedFirst = rest.slice(0, 10);
  const bannedUp = rest.slice(10, 15);
  const bannedDown = rest.slice(15, 20);
  const bannedAfter = rest.slice(20);
  await banAll(auth.url, admin.cookie, bannedFirst);
  for (const service of orders) await refusesAll(service, bannedFirst);

  // Traffic on both replicas all along. An answer counts for a phase only if the phase did not
  // change while it was in flight; answers across a change may be either side's.
  let phase: Phase = 'up';
  let running = true;
  const answers: Answer[] = [];
  const call = async (what: Answer['what'], send: () => Promise<Response>) => {
    const at = phase;
    let status: number | 'error' = 'error';
    let body: unknown;
    try {
      const res = await send();
      status = res.status;
      body = res.status >= 400 ? await res.json() : await res.arrayBuffer().then(() => undefined);
    } catch (err) {
      body = String(err);
    }
    answers.push({ phase: phase === at ? at : 'changing', what, status, body });
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  const load = async (service: ServiceProcess) => {
    for (let n = 0; running; n++) {
      await Promise.all([
        call('list', () => fetch(`${service.url}/api/orders`, { headers: bearer(customer.token) })),
        call('banned', () => fetch(`${service.url}/api/orders`, { headers: bearer(bannedFirst[n % bannedFirst.length]!.token) })),
        call('create', () => fetch(`${service.url}/api/orders`, { method: 'POST', headers: bearer(customer.token), body: JSON.stringify({ ticketId: `t-${n}` }) })),
      ]);
    }
  };
  const loads = orders.map(load);
  const heard = (of: Phase, count: number) => waitFor(() => answers.filter((answer) => answer.phase === of).length >= count, { timeoutMs: 20_000, what: `${count} answers while ${of}` });
  const ready = async (service: ServiceProcess) => (await fetch(`${service.url}/healthz/ready`)).status;

  try {
    await heard('up', 30);
    await banAll(auth.url, admin.cookie, bannedUp);

    phase = 'changing';
    await pgServer.stop();
    phase = 'down';
    await heard('down', 30);
    for (const user of bannedDown) {
      const res = await postJson(`${auth.url}/api/admin/users/${user.id}/ban`, { reason: 'during the outage' }, admin.cookie);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ errors: [{ message: 'Database unavailable' }] });
    }
    for (const service of [auth, ...orders]) {
      const notReady = await fetch(`${service.url}/healthz/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ errors: [{ message: 'database: not ready' }] });
      expect((await fetch(`${service.url}/healthz/live`)).status).toBe(200);
    }

    phase = 'changing';
    await pgServer.start();
    // The same processes come back by themselves: their pools connect again.
    await waitFor(async () => (await Promise.all([auth, ...orders].map(ready))).every((status) => status === 200), { timeoutMs: 20_000, what: 'every service to be ready again' });
    phase = 'recovered';
    await heard('recovered', 30);
    await banAll(auth.url, admin.cookie, [...bannedDown, ...bannedAfter]);
    await heard('recovered', 60);
  } finally {
    running = false;
    await Promise.all(loads);
  }

  const unexpected = (answer: Answer) => {
    if (answer.status === 'error' || answer.status === 500) return true;
    if (answer.what === 'banned') return answer.status !== 403 || JSON.stringify(answer.body) !== JSON.stringify({ errors: [{ message: 'User is banned' }] });
    const ok = answer.what === 'list' ? 200 : 201;
    const unavailable = answer.status === 503 && JSON.stringify(answer.body) === JSON.stringify({ errors: [{ message: 'Database unavailable' }] });
    if (answer.phase === 'down') return !unavailable;
    if (answer.phase === 'changing') return answer.status !== ok && !unavailable;
    return answer.status !== ok;
  };
  expect(answers.filter(unexpected)).toEqual([]);
  // Banned users were refused throughout: the ban list needs no database.
  expect(answers.filter((answer) => answer.phase === 'down' && answer.what === 'banned').length).toBeGreaterThan(0);

  const banned = [...bannedFirst, ...bannedUp, ...bannedDown, ...bannedAfter];
  for (const service of orders) await refusesAll(service, banned);
  // The bans refused with 503 left no row; made again after the outage, each is in the outbox once.
  await expectEachBanPublishedOnce(authSql, nats.url, banned);
  for (const service of orders) await expectEachBanAppliedOnce(service, banned.length);
  for (const service of [auth, ...orders]) await expectStopsCleanly(service);
});

it('auth killed: orders replicas keep serving valid tokens and refusing banned users, and a replica started meanwhile replays the bans', async () => {
  const system = await startSystem({ replicas: 2 });
  const { nats, authSql, auth, orders, admin } = system;
  const member = await signup(auth.url, 'member@example.com');
  const users = await usersWithTokens(authSql, 30, 'down');
  const banned = users.slice(0, 20);
  const valid = users.slice(20);
  await banAll(auth.url, admin.cookie, banned);
  for (const service of orders) await refusesAll(service, banned);
  await expectEachBanPublishedOnce(authSql, nats.url, banned);

  expect(await killService(auth)).toBeNull();
  await expect(fetch(`${auth.url}/healthz/live`)).rejects.toThrow();
  // The stream is NATS's, not auth's: a replica starting now still replays every ban before it is ready.
  const replica = await system.startOrders();

  for (const service of [replica, ...orders]) {
    // The first answers of the new replica count too: no waiting for it to learn anything.
    for (let round = 0; round < 3; round++) {
      const [validStatuses, bannedStatuses] = await Promise.all([
        Promise.all(valid.map((user) => ordersStatus(service, user.token))),
        Promise.all(banned.map((user) => ordersStatus(service, user.token))),
      ]);
      expect(validStatuses).toEqual(valid.map(() => 200));
      expect(bannedStatuses).toEqual(banned.map(() => 403));
    }
    // Auth's own cookie, on a request that changes state.
    const created = await postJson(`${service.url}/api/orders`, { ticketId: 'while-auth-is-down' }, member.cookie);
    expect(created.status).toBe(201);
    expect((await fetch(`${service.url}/healthz/ready`)).status).toBe(200);
    await expectEachBanAppliedOnce(service, banned.length);
    expect(logLines(service).filter((line) => line.level >= 50)).toEqual([]);
  }
  for (const service of [replica, ...orders]) await expectStopsCleanly(service);
});

it('more live bans than BAN_CACHE_MAX: each early eviction is logged as an error and counted, no ban is lost (tokens as old as an evicted ban are refused for everyone, 401), and the replicas stay ready', async () => {
  const system = await startSystem({ replicas: 2, ordersEnv: { BAN_CACHE_MAX: '50' } });
  const { nats, authSql, auth, orders, admin } = system;
  const users = await usersWithTokens(authSql, 60, 'flood');
  const [bystander] = await usersWithTokens(authSql, 1, 'bystander');
  await banAll(auth.url, admin.cookie, users);
  await expectEachBanPublishedOnce(authSql, nats.url, users);
  // The list drops its oldest entry first, and entries are set in stream order.
  const evicted = (await streamBans(nats.url)).slice(0, users.length - 50).map((ban) => ban.userId);
  // A replica replaying the flood fills its list the same way.
  const replica = await system.startOrders();

  for (const service of [...orders, replica]) {
    await waitFor(async () => (await appliedBans(service, 'applied')) === users.length, { timeoutMs: 20_000, what: 'every ban to be applied' });
    await expectEachBanAppliedOnce(service, users.length);
    expect(await metric(service, /^ban_list_size[{ ]/)).toBe(50);
    expect(await metric(service, /^ban_list_early_evictions_total[{ ]/)).toBe(evicted.length);
    const evictions = logLines(service).filter((line) => line.audit === 'ban_list.early_eviction');
    expect(evictions.map((line) => line.level)).toEqual(evicted.map(() => 50));
    expect(evictions.map((line) => line.userId)).toEqual(evicted);

    // Every ban still held refuses (403); an evicted one is refused as revoked (401, so a client
    // refreshes, and auth refuses a banned user's refresh), and so is anyone's token as old.
    const statuses = await Promise.all(users.map((user) => ordersStatus(service, user.token)));
    expect(statuses).toEqual(users.map((user) => (evicted.includes(user.id) ? 401 : 403)));
    expect(await ordersStatus(service, bystander!.token)).toBe(401);
    // A token issued after the evicted bans passes.
    const fresh = signer.sign({ id: bystander!.id, email: 'fresh@example.com', role: 'user' }, { issuedAtMs: Date.now() + 1_000 });
    expect(await ordersStatus(service, fresh)).toBe(200);
    expect((await fetch(`${service.url}/healthz/ready`)).status).toBe(200);
  }
  for (const service of [auth, ...orders, replica]) await expectStopsCleanly(service);
});
