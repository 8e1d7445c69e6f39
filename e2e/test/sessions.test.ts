import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, postJson, sessionCookieOf, startNatsServer, TEST_JWT_KEY, waitFor, type NatsServer, type TestDatabase } from '@ticketing/testing';
import { startService, type ServiceProcess } from './service-process.js';
import { signup } from './signup.js';

// Ending sessions reaches other services as bans do: auth and orders as real processes.
let nats: NatsServer;
let authDb: TestDatabase;
let ordersDb: TestDatabase;
let auth: ServiceProcess;
let orders: ServiceProcess;
const late: ServiceProcess[] = [];

const env = () => ({ JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url, AUTH_RATE_LIMIT: '1000' });
const startOrders = () => startService('orders', { ...env(), DATABASE_URL: ordersDb.url });

beforeAll(async () => {
  [nats, authDb, ordersDb] = await Promise.all([startNatsServer(), createTestDatabase(), createTestDatabase()]);
  auth = await startService('auth', { ...env(), DATABASE_URL: authDb.url });
  orders = await startOrders();
});
afterAll(async () => {
  await Promise.all([auth, orders, ...late].map((service) => service?.stop()));
  await Promise.all([nats?.destroy(), authDb?.drop(), ordersDb?.drop()]);
});

const listOrders = (service: ServiceProcess, cookie: string) => fetch(`${service.url}/api/orders`, { headers: { cookie } });

/** A session cookie of a new sign-in: another device of the same user. */
async function signin(email: string, password = 'password1'): Promise<string> {
  const res = await postJson(`${auth.url}/api/users/signin`, { email, password });
  expect(res.status).toBe(200);
  return sessionCookieOf(res);
}

it('sign-out everywhere reaches orders (401, not 403), and a replica started afterwards replays it', async () => {
  const user = await signup(auth.url, 'everywhere@example.com');
  const otherDevice = await signin('everywhere@example.com');
  expect((await listOrders(orders, otherDevice)).status).toBe(200);

  expect((await postJson(`${auth.url}/api/users/signout-all`, {}, user.cookie)).status).toBe(200);
  await waitFor(async () => (await listOrders(orders, otherDevice)).status === 401, { timeoutMs: 10_000, what: 'orders to refuse the signed-out device' });
  const refused = await listOrders(orders, otherDevice);
  expect(await refused.json()).toEqual({ errors: [{ message: 'Signed out everywhere; sign in again' }] });
  expect(refused.headers.getSetCookie().some((cookie) => /^session=;/.test(cookie))).toBe(true);

  const replica = await startOrders();
  late.push(replica);
  expect((await listOrders(replica, user.cookie)).status).toBe(401);
  // A new sign-in is dated after the revocation, and passes everywhere at once.
  const again = await signin('everywhere@example.com');
  for (const service of [orders, replica]) expect((await listOrders(service, again)).status).toBe(200);
});

it('a password change ends the other devices\' sessions in orders, and keeps the device that changed it signed in', async () => {
  const user = await signup(auth.url, 'password@example.com');
  const otherDevice = await signin('password@example.com');
  const res = await postJson(`${auth.url}/api/users/password`, { currentPassword: 'password1', newPassword: 'another password' }, user.cookie);
  expect(res.status).toBe(200);
  const changed = sessionCookieOf(res);
  await waitFor(async () => (await listOrders(orders, otherDevice)).status === 401, { timeoutMs: 10_000, what: 'orders to refuse the other device' });
  expect((await listOrders(orders, user.cookie)).status).toBe(401);
  expect((await listOrders(orders, changed)).status).toBe(200);
});
