import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { waitFor } from '@ticketing/testing';
import { startOrders, type TestOrders } from '../../orders/test/start-orders.js';
import { ADMIN_EMAIL, startAuth, type TestAuth } from '../../auth/test/start-auth.js';
import { signup } from '../../auth/test/signup.js';

// The auth and orders apps in this process, on one nats-server: a ban made on auth must reach orders whatever letter case
// the admin typed the id in.
let auth: TestAuth;
let orders: TestOrders;
let admin: { id: string; cookie: string };
beforeAll(async () => {
  auth = await startAuth();
  orders = await startOrders({ natsUrl: auth.config.natsUrl });
  admin = await signup(auth, ADMIN_EMAIL);
});
afterAll(async () => {
  await orders?.close();
  await auth?.close();
});

/** The id with every other hex letter upper-cased. */
const mixedCase = (id: string) => [...id].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');

const listOrders = (cookie: string) => request(orders.app).get('/api/orders').set('Cookie', cookie);

describe.each([
  ['upper case', (id: string) => id.toUpperCase()],
  ['mixed case', mixedCase],
])('a user id typed in %s', (label, spell) => {
  it('bans on auth and on orders, with the event carrying the id as the database holds it', async () => {
    const user = await signup(auth, `${label.replace(' ', '-')}@example.com`);
    expect((await listOrders(user.cookie)).status).toBe(200);
    const res = await request(auth.app).post(`/api/admin/users/${spell(user.id)}/ban`).set('Cookie', admin.cookie).send({ reason: 'spam' });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(user.id);
    const { rows } = await auth.db.query<{ payload: { userId: string } }>("SELECT payload FROM outbox WHERE subject = 'auth.user.banned' AND payload->>'userId' = $1", [user.id]);
    expect(rows).toHaveLength(1);
    await waitFor(async () => (await listOrders(user.cookie)).status === 403, { timeoutMs: 10_000, what: 'orders to refuse the banned user' });
    expect((await request(auth.app).get('/api/users/currentuser').set('Cookie', user.cookie)).body).toEqual({ currentUser: null, banned: true });

    const unban = await request(auth.app).post(`/api/admin/users/${spell(user.id)}/unban`).set('Cookie', admin.cookie);
    expect(unban.status).toBe(200);
    expect(unban.body.banned).toBe(false);
    // Tokens from before the ban stay refused after the unban.
    expect((await listOrders(user.cookie)).status).toBe(403);
  });

  it('is still the admin themself: no self-ban, no self-unban', async () => {
    const self = await request(auth.app).post(`/api/admin/users/${spell(admin.id)}/ban`).set('Cookie', admin.cookie).send({ reason: 'oops' });
    expect(self.status).toBe(403);
    expect(self.body).toEqual({ errors: [{ message: 'Admins cannot ban themselves' }] });
    const selfUnban = await request(auth.app).post(`/api/admin/users/${spell(admin.id)}/unban`).set('Cookie', admin.cookie);
    expect(selfUnban.status).toBe(403);
    expect(selfUnban.body).toEqual({ errors: [{ message: 'Admins cannot unban themselves' }] });
  });
});

describe('order ids in any letter case', () => {
  it('finds and cancels the caller\'s order, and still hides other users\' orders', async () => {
    const owner = await signup(auth, 'owner@example.com');
    const stranger = await signup(auth, 'stranger@example.com');
    const created = await request(orders.app).post('/api/orders').set('Cookie', owner.cookie).send({ ticketId: 'case-1' }).expect(201);
    const upper = created.body.id.toUpperCase();
    const shown = await request(orders.app).get(`/api/orders/${upper}`).set('Cookie', owner.cookie);
    expect(shown.status).toBe(200);
    expect(shown.body.id).toBe(created.body.id);
    expect((await request(orders.app).get(`/api/orders/${mixedCase(created.body.id)}`).set('Cookie', stranger.cookie)).status).toBe(404);
    expect((await request(orders.app).post(`/api/orders/${mixedCase(created.body.id)}/cancel`).set('Cookie', stranger.cookie)).status).toBe(404);
    const cancelled = await request(orders.app).post(`/api/orders/${upper}/cancel`).set('Cookie', owner.cookie);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
  });
});

describe('cross-site requests on the real routes', () => {
  it.each([
    ['sign out', () => request(auth.app).post('/api/users/signout')],
    ['unban', () => request(auth.app).post(`/api/admin/users/${admin.id}/unban`)],
    ['cancel an order', () => request(orders.app).post('/api/orders/6f1c2a52-3c7e-4d0b-9f3a-2b8f1d1e9a10/cancel')],
  ])('refuses %s from another site with a form body (403), and changes nothing', async (_name, send) => {
    const res = await send().set('Cookie', admin.cookie).set('Origin', 'https://evil.example')
      .set('Content-Type', 'application/x-www-form-urlencoded').send('confirm=1');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: 'Cross-site request refused' }] });
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('a service configured with a shorter token lifetime than auth', () => {
  it('refuses auth\'s tokens for their whole life, loudly, instead of forgetting bans early', async () => {
    const short = await startOrders({ natsUrl: auth.config.natsUrl, env: { ACCESS_TOKEN_TTL: '3s' } });
    try {
      const user = await signup(auth, 'short-lived@example.com');
      expect((await listOrders(user.cookie)).status).toBe(200);
      const res = await request(short.app).get('/api/orders').set('Cookie', user.cookie);
      expect(res.status).toBe(401);
      const metrics = { text: await short.deps.metrics.registry.metrics() };
      expect(metrics.text).toMatch(/^tokens_refused_total\{[^}]*reason="lifetime"[^}]*\} 1$/m);
    } finally {
      await short.close();
    }
  });
});
