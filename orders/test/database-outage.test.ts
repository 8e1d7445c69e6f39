import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import request from 'supertest';
import { startPostgresServer, waitFor, type PostgresServer } from '@ticketing/testing';
import { cookieFor, startOrders, type TestOrders } from './start-orders.js';

let pgServer: PostgresServer;
let orders: TestOrders;
beforeAll(async () => {
  pgServer = await startPostgresServer();
  orders = await startOrders({ databaseUrl: pgServer.url });
});
afterAll(async () => {
  await orders?.close();
  await pgServer?.destroy();
});

it('answers 503 while its database is down and recovers by itself when it returns', async () => {
  const cookie = cookieFor({ id: randomUUID() });
  const list = () => request(orders.app).get('/api/orders').set('Cookie', cookie);
  expect((await list()).status).toBe(200);

  await pgServer.stop();
  const down = await list();
  expect(down.status).toBe(503);
  expect(down.body).toEqual({ errors: [{ message: 'Database unavailable' }] });
  const ready = await request(orders.app).get('/healthz/ready');
  expect(ready.status).toBe(503);
  expect(ready.body.errors[0].message).toMatch(/^database:/);
  expect((await request(orders.app).get('/healthz/live')).status).toBe(200);

  await pgServer.start();
  await waitFor(async () => (await list()).status === 200, { timeoutMs: 20_000, what: 'orders to recover' });
  expect((await request(orders.app).post('/api/orders').set('Cookie', cookie).send({ ticketId: 'after' })).status).toBe(201);
  expect((await request(orders.app).get('/healthz/ready')).status).toBe(200);
});
