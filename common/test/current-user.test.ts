import express from 'express';
import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { createTokenSigner, currentUser, errorHandler } from '@ticketing/common';
import { capturingLogger } from '@ticketing/common/testing';
import { ADMIN, OTHER_KEY, T0, T0_SECONDS, base64url, middlewareApp, sessionCookie, signAt, whoAmI } from './fixtures.js';

function app() {
  return middlewareApp((a) => a.get('/me', whoAmI));
}

const refusals = (lines: () => Record<string, unknown>[]) => lines().filter((line) => line.msg === 'token refused');

describe('currentUser', () => {
  it('sets req.currentUser from an Authorization: Bearer token', async () => {
    const { app: server, lines } = app();
    const res = await request(server).get('/me').set('Authorization', `Bearer ${signAt(T0, ADMIN)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      currentUser: { id: 'admin-1', email: 'admin@example.com', role: 'admin', iat: T0_SECONDS, exp: T0_SECONDS + 900 },
    });
    expect(refusals(lines)).toEqual([]);
  });

  it('sets req.currentUser from the session cookie ({ jwt })', async () => {
    const { app: server } = app();
    const res = await request(server).get('/me').set('Cookie', sessionCookie({ jwt: signAt(T0) }));
    expect(res.status).toBe(200);
    expect(res.body.currentUser).toMatchObject({ id: 'user-1', role: 'user' });
  });

  it('prefers the Authorization header to the cookie', async () => {
    const { app: server } = app();
    const res = await request(server)
      .get('/me')
      .set('Authorization', `Bearer ${signAt(T0, ADMIN)}`)
      .set('Cookie', sessionCookie({ jwt: signAt(T0) }));
    expect(res.body.currentUser.id).toBe('admin-1');
  });

  it('goes on without a user and logs nothing when there is no token', async () => {
    const { app: server, lines } = app();
    const res = await request(server).get('/me');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([]);
  });

  it('refuses a garbage token in the cookie, logging why at debug', async () => {
    const { app: server, lines } = app();
    const res = await request(server).get('/me').set('Cookie', sessionCookie({ jwt: 'garbage' }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ currentUser: null });
    const [line, ...more] = refusals(lines);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 20, source: 'cookie', reason: 'jwt malformed' });
  });

  it('refuses a session jwt that is not a string, logging why', async () => {
    const { app: server, lines } = app();
    const res = await request(server).get('/me').set('Cookie', sessionCookie({ jwt: { id: 'user-1', role: 'admin' } }));
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ level: 20, reason: 'session jwt is not a string' })]);
  });

  it('ignores a session cookie that is not base64 JSON', async () => {
    // cookie-session drops a cookie it cannot decode, so the request is simply signed out.
    const { app: server } = app();
    const res = await request(server).get('/me').set('Cookie', 'session=%%%not-base64-json{{{');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ currentUser: null });
  });

  it('refuses a tampered token, logging why and never the token', async () => {
    const { app: server, lines } = app();
    const [header, , signature] = signAt(T0).split('.');
    const tampered = `${header}.${base64url({ id: 'user-1', email: 'alice@example.com', role: 'admin', iat: T0_SECONDS, exp: T0_SECONDS + 900, iss: 'ticketing-auth' })}.${signature}`;
    const res = await request(server).get('/me').set('Authorization', `Bearer ${tampered}`);
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ level: 20, source: 'header', reason: 'invalid signature' })]);
    const logged = JSON.stringify(lines());
    expect(logged).not.toContain(tampered);
    expect(logged).not.toContain(signature);
  });

  it('refuses an expired token in the cookie without logging it', async () => {
    const { app: server, lines } = app();
    const expired = signAt(T0 - 3_600_000);
    const res = await request(server).get('/me').set('Cookie', sessionCookie({ jwt: expired }));
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ reason: 'jwt expired' })]);
    expect(JSON.stringify(lines())).not.toContain(expired.split('.')[2]);
  });

  it.each([
    ['no scheme', (token: string) => token],
    ['another scheme', (token: string) => `Basic ${token}`],
    ['no token', () => 'Bearer '],
    ['not a JWT', () => 'Bearer abc'],
    ['two tokens', (token: string) => `Bearer ${token} ${token}`],
  ])('refuses a malformed Authorization header (%s), logging why and never the token', async (_name, header) => {
    const { app: server, lines } = app();
    const token = signAt(T0);
    const res = await request(server).get('/me').set('Authorization', header(token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ level: 20, reason: 'authorization header is not a Bearer JWT' })]);
    expect(JSON.stringify(lines())).not.toContain(token.split('.')[2]);
  });

  it('does not fall back to the cookie when the header is malformed', async () => {
    const { app: server } = app();
    const res = await request(server).get('/me').set('Authorization', 'Basic dXNlcjpwYXNz').set('Cookie', sessionCookie({ jwt: signAt(T0) }));
    expect(res.body).toEqual({ currentUser: null });
  });

  it('refuses a token signed with another key', async () => {
    const { app: server, lines } = app();
    const foreign = createTokenSigner({ key: OTHER_KEY, ttlMs: 900_000, now: () => T0 }).sign(ADMIN);
    const res = await request(server).get('/me').set('Authorization', `Bearer ${foreign}`);
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ reason: 'invalid signature' })]);
  });

  it('passes an unexpected verifier failure on to the error handler (500)', async () => {
    const { logger } = capturingLogger();
    const server = express();
    server.use(currentUser({ verifier: { verify: () => { throw new Error('verifier crashed'); } }, logger }));
    server.get('/me', whoAmI);
    server.use(errorHandler({ logger }));
    const res = await request(server).get('/me').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: [{ message: 'Something went wrong' }] });
  });

  it('refuses to build without a verifier (TypeError)', () => {
    const { logger } = capturingLogger();
    expect(() => currentUser({ verifier: undefined as never, logger })).toThrow(TypeError);
    expect(() => currentUser({ verifier: {} as never, logger })).toThrow(TypeError);
  });
});
