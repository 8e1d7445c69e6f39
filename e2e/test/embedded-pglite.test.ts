import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postJson, sessionCookieOf, startNatsServer, TEST_JWT_KEY, type NatsServer } from '@ticketing/testing';
import { startService, type ServiceProcess } from './service-process.js';

// The embedded default: no DATABASE_URL, so each service keeps PGlite under its DATA_DIR.
let dataDir: string;
let nats: NatsServer;
let auth: ServiceProcess;
let orders: ServiceProcess;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ticketing-e2e-'));
  nats = await startNatsServer();
  [auth, orders] = await Promise.all([
    startService('auth', { JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url, DATA_DIR: join(dataDir, 'auth') }),
    startService('orders', { JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url, DATA_DIR: join(dataDir, 'orders') }),
  ]);
});
afterAll(async () => {
  const codes = await Promise.all([auth?.stop(), orders?.stop()]);
  await nats?.destroy();
  await rm(dataDir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0]);
});


it('signs up and in on auth, and orders accepts the session cookie auth set', async () => {
  const signup = await postJson(`${auth.url}/api/users/signup`, { email: 'embedded@example.com', password: 'password1' });
  expect(signup.status).toBe(201);
  expect((await postJson(`${orders.url}/api/orders`, { ticketId: 'first' }, sessionCookieOf(signup))).status).toBe(201);

  const signin = await postJson(`${auth.url}/api/users/signin`, { email: 'embedded@example.com', password: 'password1' });
  expect(signin.status).toBe(200);
  const cookie = sessionCookieOf(signin);
  const order = await postJson(`${orders.url}/api/orders`, { ticketId: 'second' }, cookie);
  expect(order.status).toBe(201);
  const list = await fetch(`${orders.url}/api/orders`, { headers: { cookie } });
  expect((await list.json() as { ticketId: string }[]).map((o) => o.ticketId).sort()).toEqual(['first', 'second']);
  expect(auth.output()).toContain('"database":"pglite"');
});

it('answers a signup with an email in use 409 on PGlite too, and signs up the next one', async () => {
  // PGlite throws where PostgreSQL turns a COMMIT after a failed statement into a rollback.
  const first = await postJson(`${auth.url}/api/users/signup`, { email: 'twice@example.com', password: 'password1' });
  expect(first.status).toBe(201);
  const again = await postJson(`${auth.url}/api/users/signup`, { email: 'twice@example.com', password: 'password1' });
  expect(again.status).toBe(409);
  expect(await again.json()).toEqual({ errors: [{ message: 'Email in use', field: 'email' }] });
  expect((await postJson(`${auth.url}/api/users/signup`, { email: 'next@example.com', password: 'password1' })).status).toBe(201);
});
