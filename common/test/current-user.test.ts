import express from 'express';
import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { Registry } from 'prom-client';
import { createTokenPublicKeys, createTokenSigner, createTokenSigningKey, createTokenVerifier, currentUser, errorHandler } from '@ticketing/common';
import { capturingLogger, cookieWithJwt, cookieWithSession, createEs256KeyPair } from '@ticketing/testing';
import { ADMIN, ALICE, KEY, OTHER_KEY, T0, T0_SECONDS, base64url, middlewareApp, signAt, whoAmI } from './fixtures.js';

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
      currentUser: { id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', email: 'admin@example.com', role: 'admin', iat: T0_SECONDS, exp: T0_SECONDS + 900 },
    });
    expect(refusals(lines)).toEqual([]);
  });

  it('sets req.currentUser from the session cookie ({ jwt })', async () => {
    const { app: server } = app();
    const res = await request(server).get('/me').set('Cookie', cookieWithJwt(signAt(T0)));
    expect(res.status).toBe(200);
    expect(res.body.currentUser).toMatchObject({ id: '11111111-1111-4111-8111-111111111111', role: 'user' });
  });

  it('prefers the Authorization header to the cookie', async () => {
    const { app: server } = app();
    const res = await request(server)
      .get('/me')
      .set('Authorization', `Bearer ${signAt(T0, ADMIN)}`)
      .set('Cookie', cookieWithJwt(signAt(T0)));
    expect(res.body.currentUser.id).toBe('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
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
    const res = await request(server).get('/me').set('Cookie', cookieWithJwt('garbage'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ currentUser: null });
    const [line, ...more] = refusals(lines);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 20, source: 'cookie', reason: 'malformed' });
  });

  it('refuses a session jwt that is not a string, logging why', async () => {
    const { app: server, lines } = app();
    const res = await request(server).get('/me').set('Cookie', cookieWithSession({ jwt: { id: '11111111-1111-4111-8111-111111111111', role: 'admin' } }));
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ level: 20, reason: 'cookie_malformed' })]);
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
    const tampered = `${header}.${base64url({ id: '11111111-1111-4111-8111-111111111111', email: 'alice@example.com', role: 'admin', iat: T0_SECONDS, exp: T0_SECONDS + 900, iss: 'ticketing-auth' })}.${signature}`;
    const res = await request(server).get('/me').set('Authorization', `Bearer ${tampered}`);
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ level: 20, source: 'header', reason: 'signature' })]);
    const logged = JSON.stringify(lines());
    expect(logged).not.toContain(tampered);
    expect(logged).not.toContain(signature);
  });

  it('refuses an expired token in the cookie without logging it', async () => {
    const { app: server, lines } = app();
    const expired = signAt(T0 - 3_600_000);
    const res = await request(server).get('/me').set('Cookie', cookieWithJwt(expired));
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ reason: 'expired' })]);
    expect(JSON.stringify(lines())).not.toContain(expired.split('.')[2]);
  });

  it.each([
    ['no token', () => 'Bearer '],
    ['not a JWT', () => 'Bearer abc'],
    ['two tokens', (token: string) => `Bearer ${token} ${token}`],
    ['a comma after the token', (token: string) => `Bearer ${token},`],
  ])('refuses a malformed Bearer header (%s), logging why and never the token', async (_name, header) => {
    const { app: server, lines } = app();
    const token = signAt(T0);
    const res = await request(server).get('/me').set('Authorization', header(token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ level: 20, reason: 'bearer_malformed' })]);
    expect(JSON.stringify(lines())).not.toContain(token.split('.')[2]);
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])('takes the scheme in any case (RFC 7235): %s', async (scheme) => {
    const { app: server } = app();
    const res = await request(server).get('/me').set('Authorization', `${scheme} ${signAt(T0, ADMIN)}`);
    expect(res.body.currentUser.id).toBe(ADMIN.id);
  });

  it.each([
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['Digest', 'Digest username="ada", realm="proxy"'],
    ['a bare token68', 'dXNlcjpwYXNz'],
  ])('ignores a header of another scheme (%s) and uses the session cookie', async (_name, header) => {
    const { app: server, lines } = app();
    const res = await request(server).get('/me').set('Authorization', header).set('Cookie', cookieWithJwt(signAt(T0)));
    expect(res.body.currentUser.id).toBe(ALICE.id);
    expect(refusals(lines)).toEqual([]);
  });

  it.each([
    ['malformed', () => 'Bearer abc'],
    ['expired', () => `Bearer ${signAt(T0 - 3_600_000, ADMIN)}`],
    ['signed with another key', () => `Bearer ${createTokenSigner({ key: OTHER_KEY, ttlMs: 900_000, now: () => T0 }).sign(ADMIN)}`],
  ])('does not fall back to the cookie when the Bearer token is %s', async (_name, header) => {
    const { app: server } = app();
    const res = await request(server).get('/me').set('Authorization', header()).set('Cookie', cookieWithJwt(signAt(T0)));
    expect(res.body).toEqual({ currentUser: null });
  });

  it('counts refusals by reason and warns when the token outlives this service\'s lifetime', async () => {
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const server = express();
    server.use(currentUser({ verifier: createTokenVerifier({ key: KEY, maxLifetimeMs: 3_000, now: () => T0 }), logger, registry }));
    server.get('/me', whoAmI);
    const token = signAt(T0);
    expect((await request(server).get('/me').set('Authorization', `Bearer ${token}`)).body).toEqual({ currentUser: null });
    await request(server).get('/me').set('Authorization', 'Bearer abc');
    await request(server).get('/me').set('Authorization', 'Bearer abc');
    const { values } = await registry.getSingleMetric('tokens_refused_total')!.get();
    expect(Object.fromEntries(values.map((value) => [value.labels.reason, value.value]))).toEqual({ lifetime: 1, bearer_malformed: 2 });
    const warned = lines().filter((line) => line.level === 40);
    expect(warned).toEqual([expect.objectContaining({ reason: 'lifetime', source: 'header' })]);
    expect(String(warned[0]!.detail)).toMatch(/ACCESS_TOKEN_TTL/);
    expect(JSON.stringify(lines())).not.toContain(token.split('.')[2]);
  });

  it('counts a token naming an unknown key, and warns of it at most once a minute (anyone can write a kid)', async () => {
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const [held, rotated] = [createEs256KeyPair(), createEs256KeyPair()];
    const verifier = createTokenVerifier({ publicKeys: createTokenPublicKeys(held.publicKeyPem), maxLifetimeMs: 900_000, now: () => T0 });
    const server = express();
    server.use(currentUser({ verifier, logger, registry }));
    server.get('/me', whoAmI);
    const token = createTokenSigner({ key: createTokenSigningKey(rotated.privateKeyPem), ttlMs: 900_000, now: () => T0 }).sign(ALICE);
    for (let i = 0; i < 3; i++) {
      expect((await request(server).get('/me').set('Authorization', `Bearer ${token}`)).body).toEqual({ currentUser: null });
    }
    const { values } = await registry.getSingleMetric('tokens_refused_total')!.get();
    expect(Object.fromEntries(values.map((value) => [value.labels.reason, value.value]))).toEqual({ kid: 3 });
    const warned = lines().filter((line) => line.level === 40);
    expect(warned).toEqual([expect.objectContaining({ reason: 'kid', source: 'header' })]);
    expect(String(warned[0]!.msg)).toMatch(/JWT_PUBLIC_KEYS/);
    expect(lines().filter((line) => line.level === 20 && line.reason === 'kid')).toHaveLength(2);
  });

  it('refuses a token signed with another key', async () => {
    const { app: server, lines } = app();
    const foreign = createTokenSigner({ key: OTHER_KEY, ttlMs: 900_000, now: () => T0 }).sign(ADMIN);
    const res = await request(server).get('/me').set('Authorization', `Bearer ${foreign}`);
    expect(res.body).toEqual({ currentUser: null });
    expect(refusals(lines)).toEqual([expect.objectContaining({ reason: 'signature' })]);
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
