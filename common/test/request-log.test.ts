import { Router } from 'express';
import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { createMetrics, createServiceApp, requireAuth } from '@ticketing/common';
import { capturingLogger, cookieWithJwt } from '@ticketing/testing';
import { ALICE, T0, signAt, verifierAt } from './fixtures.js';

function app(options: { banned?: boolean } = {}) {
  const { logger, lines } = capturingLogger();
  const routes = Router();
  const bans = { isBanned: () => options.banned === true, isRevoked: () => false };
  routes.get('/api/orders/:id', requireAuth({ bans }), (req, res) => {
    res.json({ id: req.params.id });
  });
  routes.get('/api/crash', () => {
    throw new Error('internals');
  });
  const server = createServiceApp({ production: false, logger, metrics: createMetrics({ service: 'test' }), verifier: verifierAt(T0 + 1000), readiness: {}, routes });
  return { server, lines, requests: () => lines().filter((line) => typeof line.status === 'number') };
}

const ORDER_ID = '3f2a6c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

describe('request log lines', () => {
  it('logs one info line per request: method, route pattern, path, status, time, user id and request id', async () => {
    const { server, requests } = app();
    const jwt = signAt(T0);
    const res = await request(server).get(`/api/orders/${ORDER_ID}?token=${jwt}`).set('Cookie', cookieWithJwt(jwt));
    expect(res.status).toBe(200);
    const id = res.get('X-Request-Id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const [line, ...others] = requests();
    expect(others).toEqual([]);
    expect(line).toMatchObject({
      level: 30, msg: 'GET /api/orders/:id 200', method: 'GET', route: '/api/orders/:id', path: `/api/orders/${ORDER_ID}`,
      status: 200, userId: ALICE.id, requestId: id,
    });
    expect(typeof line!.ms).toBe('number');
  });

  it('never logs the token, the cookie or the query string', async () => {
    const { server, lines } = app();
    const jwt = signAt(T0);
    await request(server).get(`/api/orders/${ORDER_ID}?token=${jwt}`).set('Cookie', cookieWithJwt(jwt)).set('Authorization', `Basic ${jwt}`);
    await request(server).get(`/api/orders/${ORDER_ID}`).set('Authorization', `Bearer ${jwt}`);
    const text = JSON.stringify(lines());
    expect(text).not.toContain(jwt);
    expect(text).not.toContain(cookieWithJwt(jwt).split('=')[1]!);
    expect(text).not.toContain('token=');
  });

  it('keeps a well-formed X-Request-Id from the caller, and gives a malformed one an id of its own', async () => {
    const { server, requests } = app();
    const kept = await request(server).get('/api/nowhere').set('X-Request-Id', 'edge-01:abc.DEF_9');
    expect(kept.status).toBe(404);
    expect(kept.get('X-Request-Id')).toBe('edge-01:abc.DEF_9');
    for (const offered of ['has space', 'quote"d', 'x'.repeat(129), '', 'ünïcode', '{"level":60}']) {
      const res = await request(server).get('/api/nowhere').set('X-Request-Id', offered);
      expect(res.status).toBe(404);
      expect(res.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const logged = requests().map((line) => line.requestId);
    expect(logged[0]).toBe('edge-01:abc.DEF_9');
    expect(logged.slice(1).every((id) => typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    expect(requests().every((line) => line.userId === null && line.route === 'unmatched')).toBe(true);
  });

  it('logs health probes at debug, not info', async () => {
    const { server, requests } = app();
    await request(server).get('/healthz/live');
    await request(server).get('/healthz/ready');
    expect(requests().map((line) => [line.level, line.path])).toEqual([[20, '/healthz/live'], [20, '/healthz/ready']]);
  });

  it('puts the request id on the line of an unhandled error', async () => {
    const { server, lines } = app();
    const res = await request(server).get('/api/crash');
    expect(res.status).toBe(500);
    const error = lines().find((line) => line.msg === 'unhandled error');
    expect(error).toMatchObject({ level: 50, requestId: res.get('X-Request-Id') });
  });

  it('writes an audit line when a banned user is refused', async () => {
    const { server, lines } = app({ banned: true });
    const res = await request(server).get(`/api/orders/${ORDER_ID}`).set('Cookie', cookieWithJwt(signAt(T0)));
    expect(res.status).toBe(403);
    expect(lines().find((line) => line.audit === 'banned_user.refused')).toMatchObject({
      level: 30, userId: ALICE.id, requestId: res.get('X-Request-Id'), issuedAt: new Date(T0).toISOString(),
    });
  });
});
