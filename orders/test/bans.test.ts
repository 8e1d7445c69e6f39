import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import request from 'supertest';
import { jetstream } from '@nats-io/jetstream';
import { createTokenKey, createTokenSigner, encodeEvent, Subjects } from '@ticketing/common';
import { cookieWithJwt, TEST_JWT_KEY, waitFor } from '@ticketing/testing';
import { cookieFor, startOrders, type TestOrders } from './start-orders.js';

let orders: TestOrders;
beforeAll(async () => {
  orders = await startOrders();
});
afterAll(() => orders.close());

async function publish(subject: string, payload: object | string): Promise<void> {
  const js = jetstream(await orders.deps.nats.connection());
  await js.publish(subject, typeof payload === 'string' ? payload : encodeEvent(payload as never), { msgID: randomUUID() });
}

it('refuses a banned user on every route with 403 and clears the cookie; other users and later tokens pass', async () => {
  const userId = randomUUID();
  const before = cookieFor({ id: userId });
  const other = cookieFor({ id: randomUUID() });
  expect((await request(orders.app).get('/api/orders').set('Cookie', before)).status).toBe(200);

  // A malformed event first: skipped, and the ban after it still applies.
  await publish(Subjects.UserBanned, '{"userId":');
  const bannedAt = Date.now();
  await publish(Subjects.UserBanned, { id: randomUUID(), userId, bannedAt: new Date(bannedAt).toISOString(), reason: 'test', version: 1 });
  await waitFor(async () => (await request(orders.app).get('/api/orders').set('Cookie', before)).status === 403, { what: 'the ban to apply' });

  for (const req of [
    request(orders.app).get('/api/orders'),
    request(orders.app).post('/api/orders').send({ ticketId: 't' }),
    request(orders.app).get(`/api/orders/${randomUUID()}`),
    request(orders.app).post(`/api/orders/${randomUUID()}/cancel`),
  ]) {
    const res = await req.set('Cookie', before);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: 'User is banned' }] });
    expect(res.headers['set-cookie']![0]).toMatch(/^session=;/);
  }
  expect((await request(orders.app).get('/api/orders').set('Cookie', other)).status).toBe(200);
  // A token issued in a later second than the ban (within the clock tolerance) passes.
  const later = createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 60_000, now: () => bannedAt + 1_000 })
    .sign({ id: userId, email: 'later@example.com', role: 'user' });
  expect((await request(orders.app).get('/api/orders').set('Cookie', cookieWithJwt(later))).status).toBe(200);
  const metrics = { text: await orders.deps.metrics.registry.metrics() };
  expect(metrics.text).toMatch(/^ban_events_malformed_total\{[^}]*\} 1$/m);
});
