import { Router } from 'express';
import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { createMetrics, createServiceApp, requireAuth } from '@ticketing/common';
import { capturingLogger, cookieWithJwt } from '@ticketing/testing';
import { T0, signAt, verifierAt, whoAmI } from './fixtures.js';

/** A service with state-changing routes behind requireAuth, as orders and the admin API have them. */
function app(allowedOrigins: readonly string[] = []) {
  const { logger } = capturingLogger();
  const routes = Router();
  routes.use('/api/orders', requireAuth({ bans: { isBanned: () => false, isRevoked: () => false } }));
  routes.post('/api/orders/:id/cancel', whoAmI);
  routes.delete('/api/orders/:id', whoAmI);
  routes.get('/api/orders', whoAmI);
  routes.post('/api/users/signin', (_req, res) => {
    res.json({ signedIn: true });
  });
  return createServiceApp({
    production: false, logger, metrics: createMetrics({ service: 'test' }), verifier: verifierAt(T0 + 1000), readiness: {}, allowedOrigins, routes,
  });
}

const cookie = () => cookieWithJwt(signAt(T0));
const CANCEL = '/api/orders/6f1c2a52-3c7e-4d0b-9f3a-2b8f1d1e9a10/cancel';

describe('refusing cross-site requests', () => {
  it.each([
    ['Origin of another site, form content type', { Origin: 'https://evil.example', 'Content-Type': 'application/x-www-form-urlencoded' }],
    ['Origin of another site', { Origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'Sec-Fetch-Site': 'same-site', Origin: 'https://other.example.com' }],
    ['Origin: null (a sandboxed frame or a redirect)', { Origin: 'null' }],
    ['an Origin on another port', { Origin: 'http://127.0.0.1:1' }],
  ])('refuses a cookie-authenticated POST with %s (403)', async (_name, headers) => {
    const res = await request(app()).post(CANCEL).set('Cookie', cookie()).set(headers);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: 'Cross-site request refused' }] });
  });

  it('refuses DELETE and a cross-site sign-in too (login CSRF)', async () => {
    const server = app();
    expect((await request(server).delete('/api/orders/1').set('Cookie', cookie()).set('Origin', 'https://evil.example')).status).toBe(403);
    const signin = await request(server).post('/api/users/signin').set('Origin', 'https://evil.example').send({});
    expect(signin.status).toBe(403);
  });

  it('lets the same origin through, by Sec-Fetch-Site or by Origin', async () => {
    const server = app();
    const fetchSite = await request(server).post(CANCEL).set('Cookie', cookie()).set('Sec-Fetch-Site', 'same-origin').set('Origin', 'https://ignored.example');
    expect(fetchSite.status).toBe(200);
    const byOrigin = await request(server).post(CANCEL).set('Cookie', cookie()).set('Host', 'shop.example.com').set('Origin', 'http://SHOP.example.com');
    expect(byOrigin.status).toBe(200);
  });

  it('lets through a request with neither header (not sent by a page) and a user-initiated one (Sec-Fetch-Site: none)', async () => {
    const server = app();
    expect((await request(server).post(CANCEL).set('Cookie', cookie())).status).toBe(200);
    expect((await request(server).post(CANCEL).set('Cookie', cookie()).set('Sec-Fetch-Site', 'none')).status).toBe(200);
  });

  it('lets an origin in ALLOWED_ORIGINS through, and no other', async () => {
    const server = app(['https://app.example.com']);
    const allowed = await request(server).post(CANCEL).set('Cookie', cookie()).set('Sec-Fetch-Site', 'same-site').set('Origin', 'https://app.example.com');
    expect(allowed.status).toBe(200);
    const other = await request(server).post(CANCEL).set('Cookie', cookie()).set('Sec-Fetch-Site', 'same-site').set('Origin', 'https://evil.app.example.com');
    expect(other.status).toBe(403);
  });

  it('exempts Bearer requests, whose cookie plays no part', async () => {
    const res = await request(app()).post(CANCEL).set('Authorization', `Bearer ${signAt(T0)}`).set('Origin', 'https://evil.example');
    expect(res.status).toBe(200);
  });

  it('does not exempt a request whose Authorization header is another scheme (the cookie is used)', async () => {
    const res = await request(app()).post(CANCEL).set('Authorization', 'Basic dXNlcjpwYXNz').set('Cookie', cookie()).set('Origin', 'https://evil.example');
    expect(res.status).toBe(403);
  });

  it('leaves reads alone', async () => {
    const res = await request(app()).get('/api/orders').set('Cookie', cookie()).set('Origin', 'https://evil.example').set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(200);
  });
});

describe('accepting only UTF-8 JSON bodies', () => {
  it.each([
    ['charset=utf-7', 'application/json; charset=utf-7', '+AHsAfQ-'],
    ['charset=utf-16', 'application/json; charset=utf-16', '{}'],
    ['charset=UTF-16LE', 'application/json; charset=UTF-16LE', '{}'],
    ['charset=latin1', 'application/json; charset=latin1', '{}'],
    ['an empty charset', 'application/json; charset=', '{}'],
    ['text/plain', 'text/plain', '{}'],
    ['a form', 'application/x-www-form-urlencoded', 'a=1'],
    ['multipart', 'multipart/form-data; boundary=x', '--x--'],
  ])('answers 415 to a body with %s', async (_name, contentType, body) => {
    const res = await request(app()).post('/api/users/signin').set('Content-Type', contentType).send(body);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ errors: [{ message: 'Request body must be UTF-8 JSON' }] });
  });

  it('answers 415 to a body without a content type', async () => {
    const res = await request(app()).post('/api/users/signin').set('Content-Type', '').send(Buffer.from('{}'));
    expect(res.status).toBe(415);
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'Application/JSON'])(
    'accepts %s',
    async (contentType) => {
      const res = await request(app()).post('/api/users/signin').set('Content-Type', contentType).send('{"a":1}');
      expect(res.status).toBe(200);
    },
  );

  it('accepts a POST with no body at all, whatever its content type', async () => {
    const res = await request(app()).post(CANCEL).set('Cookie', cookie()).set('Content-Type', 'text/plain');
    expect(res.status).toBe(200);
  });
});

describe('labelling refusals in metrics', () => {
  it('labels a 401 or 403 from a router-level middleware with its mount path, not unmatched', async () => {
    const { logger } = capturingLogger();
    const metrics = createMetrics({ service: 'test' });
    const routes = Router();
    routes.use('/api/orders', requireAuth({ bans: { isBanned: () => true, isRevoked: () => false } }));
    routes.get('/api/orders/:id', whoAmI);
    const server = createServiceApp({ production: false, logger, metrics, verifier: verifierAt(T0 + 1000), readiness: {}, routes });
    await request(server).get('/api/orders/1').expect(401);
    await request(server).get('/api/orders/1').set('Cookie', cookie()).expect(403);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/http_requests_total\{[^}]*route="\/api\/orders\/\*"[^}]*status="401"[^}]*\} 1/);
    expect(text).toMatch(/http_requests_total\{[^}]*route="\/api\/orders\/\*"[^}]*status="403"[^}]*\} 1/);
    expect(text).not.toMatch(/route="unmatched"/);
  });
});
