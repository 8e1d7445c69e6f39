import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, postJson, sessionCookieOf, startNatsServer, TEST_JWT_KEY, waitFor, type NatsServer, type TestDatabase } from '@ticketing/testing';
import { startService, type ServiceProcess } from './service-process.js';
import { signup } from './signup.js';

// auth, orders and nats-server as real processes; each service on its own PostgreSQL database.
// Each test sets up what it needs beyond the admin made here, so any one of them runs alone (-t).
let nats: NatsServer;
let authDb: TestDatabase;
let ordersDb: TestDatabase;
let auth: ServiceProcess;
let orders: ServiceProcess;
let admin: { id: string; cookie: string };
const late: ServiceProcess[] = [];

const env = () => ({ JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url, ADMIN_EMAILS: 'admin@example.com', AUTH_RATE_LIMIT: '1000' });
const startOrders = () => startService('orders', { ...env(), DATABASE_URL: ordersDb.url });

beforeAll(async () => {
  [nats, authDb, ordersDb] = await Promise.all([startNatsServer(), createTestDatabase(), createTestDatabase()]);
  [auth, orders] = await Promise.all([startService('auth', { ...env(), DATABASE_URL: authDb.url }), startOrders()]);
  admin = await signup(auth.url, 'admin@example.com');
});
// A test that failed while NATS was stopped must not leave the next one without it.
afterEach(() => nats?.start());
afterAll(async () => {
  await Promise.all([auth, orders, ...late].map((service) => service?.stop()));
  await Promise.all([nats?.destroy(), authDb?.drop(), ordersDb?.drop()]);
});

const listOrders = (service: ServiceProcess, cookie: string) => fetch(`${service.url}/api/orders`, { headers: { cookie } });

it('a ban reaches orders without a request to auth, replays into a new replica, and survives unban only for new tokens', async () => {
  const user = await signup(auth.url, 'user@example.com');
  expect((await postJson(`${orders.url}/api/orders`, { ticketId: 'before-ban' }, user.cookie)).status).toBe(201);

  const ban = await postJson(`${auth.url}/api/admin/users/${user.id}/ban`, { reason: 'fraud' }, admin.cookie);
  expect(ban.status).toBe(200);
  const { bannedAt } = (await ban.json()) as { bannedAt: string };

  await waitFor(async () => (await listOrders(orders, user.cookie)).status === 403, { timeoutMs: 10_000, what: 'orders to refuse the banned user' });
  const refused = await listOrders(orders, user.cookie);
  expect(await refused.json()).toEqual({ errors: [{ message: 'User is banned' }] });
  expect(refused.headers.getSetCookie().some((cookie) => /^session=;/.test(cookie))).toBe(true);
  expect((await listOrders(orders, admin.cookie)).status).toBe(200);

  // A replica started after the ban learns it from the replay before it reports ready.
  const replica = await startOrders();
  late.push(replica);
  const first = await listOrders(replica, user.cookie);
  expect(first.status).toBe(403);

  const unban = await postJson(`${auth.url}/api/admin/users/${user.id}/unban`, {}, admin.cookie);
  expect(unban.status).toBe(200);
  // iat has one-second resolution, and a token from the ban's own second counts as issued before it.
  await waitFor(() => Math.floor(Date.now() / 1000) > Math.floor(Date.parse(bannedAt) / 1000), { what: 'the second after the ban' });
  const signin = await postJson(`${auth.url}/api/users/signin`, { email: 'user@example.com', password: 'password1' });
  expect(signin.status).toBe(200);
  const fresh = sessionCookieOf(signin);
  for (const service of [orders, replica]) {
    await waitFor(async () => {
      const [oldToken, newToken] = await Promise.all([listOrders(service, user.cookie), listOrders(service, fresh)]);
      expect(oldToken.status).toBe(403);
      return newToken.status === 200;
    }, { timeoutMs: 10_000, what: 'the fresh token to pass and the old one to stay refused' });
  }
});

it('with NATS down a ban still commits, and orders refuses once NATS is back', async () => {
  const user = await signup(auth.url, 'outage@example.com');
  expect((await listOrders(orders, user.cookie)).status).toBe(200);

  await nats.stop();
  const ban = await postJson(`${auth.url}/api/admin/users/${user.id}/ban`, { reason: 'during outage' }, admin.cookie);
  expect(ban.status).toBe(200);
  // Local verification keeps working while NATS is down.
  expect((await listOrders(orders, user.cookie)).status).toBe(200);
  // Metrics are on their own port only, never on the public one.
  expect((await fetch(`${orders.url}/metrics`)).status).toBe(404);
  const metrics = await (await fetch(`${orders.metricsUrl}/metrics`)).text();
  expect(metrics).toMatch(/^nats_connected\{[^}]*\} 0$/m);

  await nats.start();
  await waitFor(async () => (await listOrders(orders, user.cookie)).status === 403, { timeoutMs: 30_000, what: 'orders to refuse after NATS returned' });
});

it('a replica started while NATS is down serves, but is not ready until it has caught up', async () => {
  await nats.stop();
  const replica = await startService('orders', { ...env(), DATABASE_URL: ordersDb.url }, { ready: false });
  late.push(replica);
  const ready = await fetch(`${replica.url}/healthz/ready`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toEqual({ errors: [{ message: 'bans: NATS unreachable; ban list not caught up' }] });
  expect((await fetch(`${replica.url}/healthz/live`)).status).toBe(200);
  await nats.start();
  await waitFor(async () => (await fetch(`${replica.url}/healthz/ready`)).status === 200, { timeoutMs: 30_000, what: 'the replica to catch up' });
});
