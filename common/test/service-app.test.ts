import { Router } from 'express';
import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { createMetrics, createMetricsApp, createServiceApp, NotReadyError, requireAuth, type ReadinessCheck } from '@ticketing/common';
import { capturingLogger, cookieWithJwt } from '@ticketing/testing';
import { T0, signAt, verifierAt, whoAmI } from './fixtures.js';

function app(readiness: Record<string, ReadinessCheck> = {}, production = false, trustProxy?: number) {
  const { logger, lines } = capturingLogger();
  const metrics = createMetrics({ service: 'test' });
  const routes = Router();
  routes.get('/api/me', whoAmI);
  routes.get('/api/private', requireAuth({ bans: { isBanned: () => false, isRevoked: () => false } }), whoAmI);
  routes.post('/api/echo', (req, res) => {
    res.json({ body: req.body as unknown });
  });
  routes.get('/api/orders/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  routes.get('/api/client', (req, res) => {
    res.json({ ip: req.ip, secure: req.secure });
  });
  routes.get('/api/crash', () => {
    throw new Error('secret internals');
  });
  routes.post('/api/session', (req, res) => {
    req.session = { jwt: signAt(T0) };
    res.json({ ok: true });
  });
  routes.delete('/api/session', (req, res) => {
    req.session = null;
    res.json({ ok: true });
  });
  const server = createServiceApp({ production, trustProxy, logger, metrics, verifier: verifierAt(T0 + 1000), readiness, routes });
  return { server, lines, metrics };
}

describe('createServiceApp', () => {
  it('answers /healthz/live with 200', async () => {
    const res = await request(app().server).get('/healthz/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers /healthz/ready with 200 when every check holds', async () => {
    const res = await request(app({ database: () => undefined, nats: async () => undefined }).server).get('/healthz/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('answers /healthz/ready with 503 naming each failing check, and only a NotReadyError\'s reason', async () => {
    const server = app({
      database: () => undefined,
      nats: async () => {
        throw new NotReadyError('ban replay not caught up');
      },
      cache: () => {
        throw new Error('cold');
      },
    }).server;
    const res = await request(server).get('/healthz/ready');
    expect(res.status).toBe(503);
    const messages = (res.body as { errors: { message: string }[] }).errors.map((error) => error.message).sort();
    expect(messages).toEqual(['cache: not ready', 'nats: ban replay not caught up']);
  });

  it('turns ready once a failing check holds', async () => {
    let caughtUp = false;
    const server = app({ nats: () => { if (!caughtUp) throw new Error('replaying'); } }).server;
    expect((await request(server).get('/healthz/ready')).status).toBe(503);
    caughtUp = true;
    expect((await request(server).get('/healthz/ready')).status).toBe(200);
  });

  it('counts requests by route pattern, served by the metrics app and never on the public one', async () => {
    const { server, metrics } = app();
    await request(server).get('/api/orders/123').expect(200);
    await request(server).get('/api/orders/456').expect(200);
    expect((await request(server).get('/metrics')).status).toBe(404);
    const metricsApp = createMetricsApp(metrics);
    expect((await request(metricsApp).get('/api/orders/123')).status).toBe(404);
    const res = await request(metricsApp).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('# TYPE http_requests_total counter');
    expect(res.text).toMatch(/http_requests_total\{[^}]*route="\/api\/orders\/:id"[^}]*status="200"[^}]*\} 2/);
    expect(res.text).not.toContain('/api/orders/123');
    expect(res.text).toContain('http_request_duration_seconds');
    expect(res.text).toContain('process_cpu');
  });

  it('labels a route of a nested router with its full pattern', async () => {
    const { logger } = capturingLogger();
    const metrics = createMetrics({ service: 'test' });
    const admin = Router();
    admin.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const routes = Router();
    routes.use('/api/admin', admin);
    const server = createServiceApp({ production: false, logger, metrics, verifier: verifierAt(T0), readiness: {}, routes });
    await request(server).get('/api/admin/users/7').expect(200);
    await request(server).get('/api/nowhere').expect(404);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/http_requests_total\{[^}]*route="\/api\/admin\/users\/:id"[^}]*\} 1/);
    expect(text).toMatch(/http_requests_total\{[^}]*route="unmatched"[^}]*status="404"[^}]*\} 1/);
  });

  it('keeps the metrics of two apps apart', async () => {
    const first = app();
    const second = app();
    await request(first.server).get('/api/orders/1').expect(200);
    const text = await second.metrics.registry.metrics();
    expect(text).not.toContain('route="/api/orders/:id"');
  });

  it('answers 404 with the error body to an unknown route', async () => {
    const res = await request(app().server).get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: 'Route not found' }] });
  });

  it('sets the API security headers on every answer, and no X-Powered-By or ETag', async () => {
    const { server } = app();
    for (const res of [await request(server).get('/healthz/live'), await request(server).get('/api/nothing-here'), await request(server).get('/api/private')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers.etag).toBeUndefined();
    }
  });

  it('sets and clears the session cookie on requests that came without one, and sets no cookie on others', async () => {
    const { server } = app();
    const set = await request(server).post('/api/session').set('Content-Type', 'application/json').send('{}');
    expect(set.status).toBe(200);
    const cookie = (set.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('session='));
    expect(cookie).toMatch(/^session=[A-Za-z0-9+/=]+; path=\/; samesite=lax; httponly$/);
    const cleared = await request(server).delete('/api/session').set('Cookie', cookie!.split(';')[0]!);
    expect(cleared.headers['set-cookie']).toEqual(['session=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; samesite=lax; httponly']);
    for (const res of [
      await request(server).get('/api/me'),
      await request(server).get('/api/me').set('Authorization', `Bearer ${signAt(T0)}`),
      await request(server).get('/api/me').set('Cookie', cookieWithJwt(signAt(T0))),
      await request(server).get('/api/me').set('Cookie', 'other=1'),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('sends a failure of the shared middlewares to the error handler, with its documented answer', async () => {
    const { server } = app({ database: () => Promise.reject(new Error('down')) });
    const forged = await request(server).post('/api/echo').set('Cookie', cookieWithJwt(signAt(T0))).set('Origin', 'https://evil.example').set('Content-Type', 'application/json').send('{}');
    expect(forged.status).toBe(403);
    const invalid = await request(server).post('/api/echo').set('Content-Type', 'application/json').send('{"a":');
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({ errors: [{ message: 'Malformed JSON body' }] });
    expect((await request(server).get('/healthz/ready')).status).toBe(503);
    const after = await request(server).post('/api/echo').set('Content-Type', 'application/json').send('{"a":1}');
    expect(after.body).toEqual({ body: { a: 1 } });
  });

  it('authenticates from the Bearer header and the session cookie', async () => {
    const { server } = app();
    const header = await request(server).get('/api/me').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(header.body.currentUser.id).toBe('11111111-1111-4111-8111-111111111111');
    const cookie = await request(server).get('/api/private').set('Cookie', cookieWithJwt(signAt(T0)));
    expect(cookie.status).toBe(200);
    expect(cookie.body.currentUser.id).toBe('11111111-1111-4111-8111-111111111111');
    expect((await request(server).get('/api/private')).status).toBe(401);
  });

  it('parses JSON bodies and answers 413 past 16kb and 400 to malformed JSON', async () => {
    const { server } = app();
    expect((await request(server).post('/api/echo').send({ a: 1 })).body).toEqual({ body: { a: 1 } });
    const large = await request(server).post('/api/echo').send({ padding: 'x'.repeat(17 * 1024) });
    expect(large.status).toBe(413);
    expect(large.body).toEqual({ errors: [{ message: 'Request body too large' }] });
    const broken = await request(server).post('/api/echo').set('Content-Type', 'application/json').send('{');
    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({ errors: [{ message: 'Malformed JSON body' }] });
  });

  it('answers 500 with no internals and logs the error', async () => {
    const { server, lines } = app();
    const res = await request(server).get('/api/crash');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: [{ message: 'Something went wrong' }] });
    expect(lines()).toContainEqual(expect.objectContaining({ level: 50, msg: 'unhandled error' }));
  });

  it('trusts no proxy unless told how many hops, in production too', async () => {
    for (const production of [true, false]) {
      const { server } = app({}, production);
      expect(server.get('trust proxy')).toBe(false);
      const res = await request(server).get('/api/client').set('X-Forwarded-For', '203.0.113.9').set('X-Forwarded-Proto', 'https');
      expect(res.body.ip).not.toBe('203.0.113.9');
      expect(res.body.secure).toBe(false);
    }
  });

  it('believes the X-Forwarded-* entries of trustProxy hops, and no more', async () => {
    const { server } = app({}, true, 1);
    expect(server.get('trust proxy')).toBe(1);
    const res = await request(server).get('/api/client').set('X-Forwarded-For', '198.51.100.1, 203.0.113.9').set('X-Forwarded-Proto', 'https');
    expect(res.body).toEqual({ ip: '203.0.113.9', secure: true });
    expect(app({}, false, 0).server.get('trust proxy')).toBe(false);
  });

  it('refuses a trustProxy that is not an integer from 0 to 10, at once', () => {
    for (const trustProxy of [-1, 11, 1.5, Number.NaN, true as unknown as number, '1' as unknown as number]) {
      expect(() => app({}, true, trustProxy)).toThrow(TypeError);
    }
  });
});
