import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { tokenKeyId } from '@ticketing/common/tokens';
import { createEs256KeyPair, jwtFromCookie, sessionCookieOf } from '@ticketing/testing';
import { startAuth, type TestAuth } from './start-auth.js';

const OLD = createEs256KeyPair();
const NEW = createEs256KeyPair();

describe('auth with ES256', () => {
  let auth: TestAuth;
  beforeAll(async () => {
    // JWT_KEY empty: unset, as ES256 requires.
    auth = await startAuth({ JWT_KEY: '', JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: NEW.privateKeyPem, JWT_PUBLIC_KEYS: OLD.publicKeyPem + NEW.publicKeyPem });
  });
  afterAll(() => auth?.close());

  it('serves every public key it verifies with at /.well-known/jwks.json, each with its kid', async () => {
    const res = await request(auth.app).get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    const kids = [OLD, NEW].map((pair) => tokenKeyId(createPublicKey(pair.publicKeyPem)));
    expect(res.body.keys.map((key: { kid: string }) => key.kid)).toEqual(kids);
    for (const key of res.body.keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      // Each key as served verifies what it should: it is the public half, not a copy of some other.
      expect(createPublicKey({ key, format: 'jwk' }).export({ type: 'spki', format: 'pem' })).toBe(key.kid === kids[0] ? OLD.publicKeyPem : NEW.publicKeyPem);
    }
  });

  it('signs the session\'s token with ES256 under the kid of JWT_PRIVATE_KEY, and accepts it back', async () => {
    const res = await request(auth.app).post('/api/users/signup').send({ email: 'es256@example.com', password: 'password1' });
    expect(res.status).toBe(201);
    const cookie = sessionCookieOf(res);
    const { header } = jwt.decode(jwtFromCookie(cookie), { complete: true })!;
    expect(header).toMatchObject({ alg: 'ES256', kid: tokenKeyId(createPublicKey(NEW.publicKeyPem)) });
    const me = await request(auth.app).get('/api/users/currentuser').set('Cookie', cookie);
    expect(me.body.currentUser).toMatchObject({ id: res.body.id, email: 'es256@example.com' });
  });

  it('answers the JWKS to any method but GET with 404, and takes no query', async () => {
    expect((await request(auth.app).post('/.well-known/jwks.json').send({})).status).toBe(404);
    expect((await request(auth.app).get('/.well-known/jwks.json?kid=x')).status).toBe(200);
  });
});

describe('auth with HS256', () => {
  let auth: TestAuth;
  beforeAll(async () => {
    auth = await startAuth();
  });
  afterAll(() => auth?.close());

  it('has no public keys to serve, and says so with a 404', async () => {
    const res = await request(auth.app).get('/.well-known/jwks.json');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ errors: [{ message: 'No public keys: tokens are signed with HS256 (JWT_ALGORITHM)' }] });
  });
});
