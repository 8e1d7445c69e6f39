import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import jwt from 'jsonwebtoken';
import { createTokenKey, createTokenSigner } from '@ticketing/common';
import { cookieWithJwt, jwtFromCookie, sessionCookieOf, TEST_JWT_KEY } from '@ticketing/testing';
import { ADMIN_EMAIL, startAuth, type TestAuth } from './start-auth.js';

let auth: TestAuth;
beforeAll(async () => {
  auth = await startAuth();
});
afterAll(() => auth.close());

const signup = (body: unknown) => request(auth.app).post('/api/users/signup').send(body as object);
const signin = (body: unknown) => request(auth.app).post('/api/users/signin').send(body as object);

describe('POST /api/users/signup', () => {
  it('creates a user, answers 201 with the public fields only, and sets the session cookie', async () => {
    const res = await signup({ email: '  New.User@Example.COM ', password: 'password1' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['email', 'id', 'role']);
    expect(res.body).toMatchObject({ email: 'new.user@example.com', role: 'user' });
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((line) => line.startsWith('session='))!;
    expect(cookie).toMatch(/^session=/);
    expect(cookie.toLowerCase()).toContain('httponly');
    expect(cookie.toLowerCase()).toContain('samesite=lax');
    const claims = jwt.decode(jwtFromCookie(sessionCookieOf(res))) as Record<string, unknown>;
    expect(claims).toMatchObject({ id: res.body.id, email: 'new.user@example.com', role: 'user', iss: 'ticketing-auth' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(15 * 60);
  });

  it('stores an OWASP scrypt hash, never the password', async () => {
    await signup({ email: 'hash@example.com', password: 'password1' }).expect(201);
    const { rows } = await auth.db.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE email = 'hash@example.com'");
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(rows[0]!.password_hash).not.toContain('password1');
  });

  it('makes the ADMIN_EMAILS accounts admins', async () => {
    const res = await signup({ email: ADMIN_EMAIL.toUpperCase(), password: 'password1' });
    expect(res.status).toBe(201);
    expect(res.body.role).toBe('admin');
  });

  it('answers 409 for an email in use, also when it differs only in case and spaces', async () => {
    await signup({ email: 'taken@example.com', password: 'password1' }).expect(201);
    for (const email of ['taken@example.com', ' TAKEN@Example.com']) {
      const res = await signup({ email, password: 'password1' });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [{ message: 'Email in use', field: 'email' }] });
    }
  });

  it.each([
    ['no fields', {}, ['email', 'password']],
    ['an invalid email', { email: 'not-an-email', password: 'password1' }, ['email']],
    ['a non-string email', { email: 42, password: 'password1' }, ['email']],
    ['a short password', { email: 'short@example.com', password: 'short' }, ['password']],
    ['a password over 128 characters', { email: 'long@example.com', password: 'x'.repeat(129) }, ['password']],
    ['a password that is not a string', { email: 'num@example.com', password: 12345678 }, ['password']],
  ])('answers 400 with field errors for %s', async (_name, body, fields) => {
    const res = await signup(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((error: { field: string }) => error.field).sort()).toEqual(fields);
    for (const error of res.body.errors) expect(typeof error.message).toBe('string');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers 400 to a body that is not a JSON object, and 415 to one that is not JSON', async () => {
    for (const body of ['[1,2]', '"text"', 'null']) {
      const res = await request(auth.app).post('/api/users/signup').set('Content-Type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    const plain = await request(auth.app).post('/api/users/signup').set('Content-Type', 'text/plain').send('email=a');
    expect(plain.status).toBe(415);
    expect(plain.body).toEqual({ errors: [{ message: 'Request body must be UTF-8 JSON' }] });
  });

  it('answers 400 to malformed JSON and 413 to an oversized body', async () => {
    const malformed = await request(auth.app).post('/api/users/signup').set('Content-Type', 'application/json').send('{"email":');
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ errors: [{ message: 'Malformed JSON body' }] });
    const big = await signup({ email: 'big@example.com', password: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({ errors: [{ message: 'Request body too large' }] });
  });
});

describe('POST /api/users/signin', () => {
  beforeAll(async () => {
    await signup({ email: 'signin@example.com', password: 'correct-horse' }).expect(201);
  });

  it('signs in with the right password, any case of email, and sets a session cookie', async () => {
    const res = await signin({ email: ' SignIn@Example.com', password: 'correct-horse' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['email', 'id', 'role']);
    expect(sessionCookieOf(res)).toMatch(/^session=.+/);
  });

  it('answers the same 400 to a wrong password and to an unknown email', async () => {
    const wrong = await signin({ email: 'signin@example.com', password: 'wrong-horse' });
    const unknown = await signin({ email: 'nobody@example.com', password: 'correct-horse' });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [{ message: 'Invalid credentials' }] });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('answers 400 with field errors to missing or malformed fields', async () => {
    const res = await signin({ email: 'nope' });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((error: { field: string }) => error.field).sort()).toEqual(['email', 'password']);
  });
});

describe('GET /api/users/currentuser and POST /api/users/signout', () => {
  let cookie: string;
  let userId: string;
  beforeAll(async () => {
    const res = await signup({ email: 'current@example.com', password: 'password1' }).expect(201);
    cookie = sessionCookieOf(res);
    userId = res.body.id;
  });

  it('answers the user from the cookie, and from a Bearer header', async () => {
    const fromCookie = await request(auth.app).get('/api/users/currentuser').set('Cookie', cookie);
    expect(fromCookie.body.currentUser).toMatchObject({ id: userId, email: 'current@example.com', role: 'user' });
    const fromHeader = await request(auth.app).get('/api/users/currentuser').set('Authorization', `Bearer ${jwtFromCookie(cookie)}`);
    expect(fromHeader.body.currentUser).toMatchObject({ id: userId });
  });

  it('answers null without a cookie, with a garbage cookie, a tampered token or an expired one', async () => {
    const token = jwtFromCookie(cookie);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${signature}`;
    const expired = createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 60_000, now: () => Date.now() - 3_600_000 })
      .sign({ id: userId, email: 'current@example.com', role: 'user' });
    const cookies = [undefined, 'session=%%%garbage', 'session=bm90IGpzb24=', cookieWithJwt(tampered), cookieWithJwt(expired), cookieWithJwt('a.b.c')];
    for (const value of cookies) {
      const req = request(auth.app).get('/api/users/currentuser');
      const res = await (value === undefined ? req : req.set('Cookie', value));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ currentUser: null });
    }
  });

  it('answers null, and clears the cookie, for a valid token whose user no longer exists', async () => {
    const signer = createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 60_000 });
    for (const id of ['00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-00000000000A']) {
      const res = await request(auth.app).get('/api/users/currentuser').set('Cookie', cookieWithJwt(signer.sign({ id, email: 'gone@example.com', role: 'user' })));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ currentUser: null });
      expect(res.headers['set-cookie']![0]).toMatch(/^session=;/);
    }
  });

  it('signout clears the session cookie', async () => {
    const res = await request(auth.app).post('/api/users/signout').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']![0]).toMatch(/^session=;.*expires=Thu, 01 Jan 1970/);
  });
});

describe('rate limiting', () => {
  it('answers 429 with the error body once a client exceeds AUTH_RATE_LIMIT attempts a minute', async () => {
    const limited = await startAuth({ AUTH_RATE_LIMIT: '2' });
    try {
      const attempt = () => request(limited.app).post('/api/users/signin').send({ email: 'x@example.com', password: '' });
      expect((await attempt()).status).toBe(400);
      expect((await attempt()).status).toBe(400);
      const res = await attempt();
      expect(res.status).toBe(429);
      expect(res.body).toEqual({ errors: [{ message: 'Too many attempts, try again later' }] });
    } finally {
      await limited.close();
    }
  });
});
