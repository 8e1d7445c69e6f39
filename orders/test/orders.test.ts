import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTokenKey, createTokenSigner } from '@ticketing/common';
import { cookieWithJwt, TEST_JWT_KEY } from '@ticketing/testing';
import { cookieFor, startOrders, type TestOrders } from './start-orders.js';

let orders: TestOrders;
beforeAll(async () => {
  orders = await startOrders();
});
afterAll(() => orders.close());

const alice = cookieFor({ id: randomUUID() });
const bob = cookieFor({ id: randomUUID() });

const create = (cookie: string, body: unknown) => request(orders.app).post('/api/orders').set('Cookie', cookie).send(body as object);

describe('POST /api/orders', () => {
  it('creates an order for the caller', async () => {
    const res = await create(alice, { ticketId: 'ticket-1' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ticketId: 'ticket-1', status: 'created', cancelledAt: null });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(res.body.createdAt).getTime()).not.toBeNaN();
  });

  it('accepts a Bearer token as well as the cookie', async () => {
    const token = createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 60_000 }).sign({ id: randomUUID(), email: 'b@example.com', role: 'user' });
    const res = await request(orders.app).post('/api/orders').set('Authorization', `Bearer ${token}`).send({ ticketId: 't' });
    expect(res.status).toBe(201);
  });

  it.each([
    ['no ticketId', {}],
    ['a numeric ticketId', { ticketId: 5 }],
    ['an empty ticketId', { ticketId: '' }],
    ['a ticketId with odd characters', { ticketId: '../../etc' }],
    ['a ticketId over 64 characters', { ticketId: 'x'.repeat(65) }],
  ])('answers 400 with a field error for %s', async (_name, body) => {
    const res = await create(alice, body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: expect.any(String), field: 'ticketId' }]);
  });

  it('answers 400 to malformed JSON and 413 to an oversized body', async () => {
    const malformed = await request(orders.app).post('/api/orders').set('Cookie', alice).set('Content-Type', 'application/json').send('{"ticketId"');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ errors: [{ message: 'Malformed JSON body' }] });
    const big = await create(alice, { ticketId: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
  });
});

describe('authentication', () => {
  it('answers 401 to every route without a valid token', async () => {
    const id = randomUUID();
    const expired = cookieWithJwt(createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 60_000, now: () => Date.now() - 3_600_000 })
      .sign({ id: randomUUID(), email: 'old@example.com', role: 'user' }));
    const otherKey = cookieWithJwt(createTokenSigner({ key: createTokenKey('another-key-another-key-another-key'), ttlMs: 60_000 })
      .sign({ id: randomUUID(), email: 'x@example.com', role: 'admin' }));
    const credentials = [
      {},
      { Cookie: 'session=garbage!!' },
      { Cookie: expired },
      { Cookie: otherKey },
      { Authorization: 'Bearer not-a-jwt' },
      { Authorization: 'Basic dXNlcjpwYXNz' },
    ];
    for (const headers of credentials) {
      for (const req of [
        request(orders.app).post('/api/orders').send({ ticketId: 't' }),
        request(orders.app).get('/api/orders'),
        request(orders.app).get(`/api/orders/${id}`),
        request(orders.app).post(`/api/orders/${id}/cancel`),
      ]) {
        const res = await req.set(headers);
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ errors: [{ message: 'Not authenticated' }] });
      }
    }
  });
});

describe('reading and cancelling', () => {
  let aliceOrder: string;
  beforeAll(async () => {
    aliceOrder = (await create(alice, { ticketId: 'concert' }).expect(201)).body.id;
  });

  it('lists only the caller\'s orders', async () => {
    await create(bob, { ticketId: 'bob-ticket' }).expect(201);
    const res = await request(orders.app).get('/api/orders').set('Cookie', alice);
    expect(res.status).toBe(200);
    expect(res.body.length).toBeGreaterThan(0);
    expect(res.body.map((order: { ticketId: string }) => order.ticketId)).not.toContain('bob-ticket');
  });

  it('shows the caller their order, and 404 to anyone else', async () => {
    const own = await request(orders.app).get(`/api/orders/${aliceOrder}`).set('Cookie', alice);
    expect(own.status).toBe(200);
    expect(own.body.id).toBe(aliceOrder);
    const other = await request(orders.app).get(`/api/orders/${aliceOrder}`).set('Cookie', bob);
    expect(other.status).toBe(404);
    expect(other.body).toEqual({ errors: [{ message: 'Order not found' }] });
  });

  it('answers 400 to a malformed order id and 404 to an unknown one', async () => {
    for (const id of ['not-a-uuid', '123', "'%3B--"]) {
      const show = await request(orders.app).get(`/api/orders/${id}`).set('Cookie', alice);
      const cancel = await request(orders.app).post(`/api/orders/${id}/cancel`).set('Cookie', alice);
      for (const res of [show, cancel]) {
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ errors: [{ message: 'Order id must be a UUID', field: 'id' }] });
      }
    }
    const unknown = await request(orders.app).post(`/api/orders/${randomUUID()}/cancel`).set('Cookie', alice);
    expect(unknown.status).toBe(404);
  });

  it('answers 400, not 500, to a malformed percent-encoding in the path and a body that is not the gzip it claims; 415 to an unknown encoding or charset', async () => {
    for (const path of ['/api/orders/%E0%A4%A', '/api/orders/%ZZ/cancel']) {
      const res = await request(orders.app).get(path).set('Cookie', alice);
      const post = await request(orders.app).post(path).set('Cookie', alice);
      for (const answer of [res, post]) {
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual({ errors: [{ message: 'Bad request' }] });
      }
    }
    const gzip = await request(orders.app).post('/api/orders').set('Cookie', alice)
      .set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{"ticketId":"t"}');
    expect(gzip.status).toBe(400);
    const unknownEncoding = await request(orders.app).post('/api/orders').set('Cookie', alice)
      .set('Content-Type', 'application/json').set('Content-Encoding', 'br2').send('{"ticketId":"t"}');
    expect(unknownEncoding.status).toBe(415);
    const charset = await request(orders.app).post('/api/orders').set('Cookie', alice)
      .set('Content-Type', 'application/json; charset=klingon').send('{"ticketId":"t"}');
    expect(charset.status).toBe(415);
    expect(charset.body).toEqual({ errors: [{ message: 'Request body must be UTF-8 JSON' }] });
  });

  it('lets only the owner cancel, once', async () => {
    const byBob = await request(orders.app).post(`/api/orders/${aliceOrder}/cancel`).set('Cookie', bob);
    expect(byBob.status).toBe(404);
    const first = await request(orders.app).post(`/api/orders/${aliceOrder}/cancel`).set('Cookie', alice);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('cancelled');
    expect(first.body.cancelledAt).not.toBeNull();
    const second = await request(orders.app).post(`/api/orders/${aliceOrder}/cancel`).set('Cookie', alice);
    expect(second.status).toBe(400);
    expect(second.body).toEqual({ errors: [{ message: 'Order is already cancelled' }] });
  });
});
