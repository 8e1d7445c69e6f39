import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { createTokenKey, createTokenSigner, Subjects } from '@ticketing/common';
import { capturingLogger, cookieWithJwt, jwtFromCookie, sessionCookieOf, TEST_JWT_KEY, waitFor } from '@ticketing/testing';
import { ADMIN_EMAIL, authAppWith, startAuth, type TestAuth } from './start-auth.js';

const DAY_MS = 86_400_000;
const PASSWORD = 'password1';

let auth: TestAuth;
beforeAll(async () => {
  auth = await startAuth();
});
afterAll(() => auth?.close());

/** Every Set-Cookie line of a response. */
const setCookies = (res: request.Response): string[] => (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
/** The `refresh=...` cookie a response set, as a request sends it back; undefined when it set none. */
const refreshCookieOf = (res: request.Response): string | undefined => setCookies(res).find((line) => line.startsWith('refresh=') && !line.startsWith('refresh=;'))?.split(';')[0];
/** The refresh token in a `refresh=` cookie. */
const tokenOf = (cookie: string): string => cookie.slice('refresh='.length);

let emails = 0;
const nextEmail = (label: string) => `${label}-${++emails}@example.com`;

/** Signs a new user up on `app`: their id, both cookies and the line that set the refresh cookie. */
async function signupOn(app: Express, label = 'user') {
  const email = nextEmail(label);
  const res = await request(app).post('/api/users/signup').send({ email, password: PASSWORD });
  expect(res.status).toBe(201);
  const refresh = refreshCookieOf(res)!;
  return { id: res.body.id as string, email, session: sessionCookieOf(res), refresh, refreshLine: setCookies(res).find((line) => line.startsWith('refresh='))! };
}

const refreshWith = (app: Express, cookie: string) => request(app).post('/api/users/refresh').set('Cookie', cookie);

/** An app on the suite's database whose refresh-token clock the test moves by hand. */
function frozenApp(startMs = Date.now()) {
  const clock = { ms: startMs };
  const { logger, lines } = capturingLogger();
  const app = authAppWith(auth, { now: () => clock.ms, logger, relay: auth.relay });
  return { app, clock, lines };
}

describe('refresh tokens', () => {
  it('come with signup and signin as an httpOnly, SameSite=Lax cookie on /, kept by auth only as a hash', async () => {
    const user = await signupOn(auth.app);
    expect(user.refreshLine).toMatch(/^refresh=[A-Za-z0-9_-]{43}; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    const expires = Date.parse(/Expires=([^;]+)/.exec(user.refreshLine)![1]!);
    expect(expires).toBeGreaterThan(Date.now() + 7 * DAY_MS - 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS);
    const { rows } = await auth.db.query<{ token_hash: Buffer }>(
      'SELECT t.token_hash FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE f.user_id = $1', [user.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toHaveLength(32);
    expect(rows[0]!.token_hash.toString('utf8')).not.toContain(tokenOf(user.refresh));
    const signin = await request(auth.app).post('/api/users/signin').send({ email: user.email, password: PASSWORD });
    expect(refreshCookieOf(signin)).toMatch(/^refresh=[A-Za-z0-9_-]{43}$/);
    expect(refreshCookieOf(signin)).not.toBe(user.refresh);
  });

  it('rotate on refresh: a new refresh token and a new access token, and the old refresh token is spent', async () => {
    const user = await signupOn(auth.app);
    const res = await refreshWith(auth.app, user.refresh);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: user.id, email: user.email, role: 'user' });
    const next = refreshCookieOf(res)!;
    expect(next).not.toBe(user.refresh);
    const me = await request(auth.app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(res));
    expect(me.body.currentUser).toMatchObject({ id: user.id });
    expect((await refreshWith(auth.app, next)).status).toBe(200);
  });

  it('replace again a token whose replacement nobody used (a lost answer, two tabs at once): no theft', async () => {
    const { app, lines } = frozenApp();
    const user = await signupOn(app);
    const lost = await refreshWith(app, user.refresh);
    expect(lost.status).toBe(200);
    // The answer never reached the browser: it presents the same token again.
    const again = await refreshWith(app, user.refresh);
    expect(again.status).toBe(200);
    const next = refreshCookieOf(again)!;
    expect(next).not.toBe(refreshCookieOf(lost));
    // The lost replacement, had it arrived after all, leads on too: two tabs racing.
    expect((await refreshWith(app, refreshCookieOf(lost)!)).status).toBe(200);
    expect(lines().some((line) => String(line.msg).includes('suspected theft'))).toBe(false);
    const { rows } = await auth.db.query('SELECT 1 FROM outbox WHERE subject = $1 AND payload->>\'userId\' = $2', [Subjects.SessionsRevoked, user.id]);
    expect(rows).toHaveLength(0);
  });

  it('replace any token of three tabs that refreshed one token at once, whichever answer the browser kept: no theft', async () => {
    for (const kept of [0, 1, 2]) {
      const { app, lines } = frozenApp();
      const user = await signupOn(app);
      const answers: string[] = [];
      for (let tab = 0; tab < 3; tab++) {
        const res = await refreshWith(app, user.refresh);
        expect(res.status).toBe(200);
        answers.push(refreshCookieOf(res)!);
      }
      const next = await refreshWith(app, answers[kept]!);
      expect(next.status, `the answer of tab ${kept}`).toBe(200);
      expect(lines().some((line) => String(line.msg).includes('suspected theft'))).toBe(false);
      // Once a successor is used, the others are spent for good: presenting one is theft.
      const stale = answers[(kept + 1) % 3]!;
      expect((await refreshWith(app, refreshCookieOf(next)!)).status).toBe(200);
      expect((await refreshWith(app, stale)).status).toBe(401);
      expect(lines().some((line) => String(line.msg).includes('suspected theft'))).toBe(true);
    }
  });

  it('revoke the whole family and every access token of the user when a token comes back after its replacement was used: theft', async () => {
    const { app, lines } = frozenApp();
    const user = await signupOn(app);
    const other = await request(app).post('/api/users/signin').send({ email: user.email, password: PASSWORD });
    const otherDevice = refreshCookieOf(other)!;
    const rotated = await refreshWith(app, user.refresh);
    // The owner goes on with the replacement; a copy of the first token is used somewhere else.
    const owner = await refreshWith(app, refreshCookieOf(rotated)!);
    expect(owner.status).toBe(200);

    const reused = await refreshWith(app, user.refresh);
    expect(reused.status).toBe(401);
    expect(reused.body).toEqual({ errors: [{ message: 'Invalid or expired refresh token' }] });
    expect(setCookies(reused).some((line) => /^refresh=;/.test(line))).toBe(true);
    expect(lines().some((line) => line.level === 40 && String(line.msg).includes('suspected theft') && line.userId === user.id)).toBe(true);
    // The owner's newest token is dead too; the user's other device keeps its session.
    expect((await refreshWith(app, refreshCookieOf(owner)!)).status).toBe(401);
    const refreshed = await refreshWith(app, otherDevice);
    expect(refreshed.status).toBe(200);
    // Every access token from before, on every service: the event, and the ban list it reaches.
    const { rows } = await auth.db.query<{ payload: { userId: string; notBefore: string } }>(
      'SELECT payload FROM outbox WHERE subject = $1 AND payload->>\'userId\' = $2', [Subjects.SessionsRevoked, user.id],
    );
    expect(rows).toHaveLength(1);
    const notBeforeMs = Date.parse(rows[0]!.payload.notBefore);
    await waitFor(() => auth.deps.banSync.bans.isRevoked(user.id, notBeforeMs), { what: 'the revocation to reach the ban list' });
    const stale = await request(app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(owner));
    expect(stale.body).toEqual({ currentUser: null });
    // The other device's fresh token is dated after the revocation, and counts.
    const fresh = await request(app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(refreshed));
    expect(fresh.body.currentUser).toMatchObject({ id: user.id });
    expect((jwtClaims(sessionCookieOf(refreshed)).iat) * 1000).toBeGreaterThan(notBeforeMs);
  });

  it('take a spent token of a session that was signed out as theft too: a thief signing out hides nothing', async () => {
    const { app, lines } = frozenApp();
    const user = await signupOn(app);
    const thiefs = refreshCookieOf(await refreshWith(app, user.refresh))!;
    // The thief signs the session out with its current token, so that the owner's next try looks like a plain sign-out.
    expect((await request(app).post('/api/users/signout').set('Cookie', thiefs)).status).toBe(200);
    expect((await refreshWith(app, user.refresh)).status).toBe(401);
    expect(lines().some((line) => String(line.msg).includes('suspected theft') && line.userId === user.id)).toBe(true);
    const { rows } = await auth.db.query('SELECT 1 FROM outbox WHERE subject = $1 AND payload->>\'userId\' = $2', [Subjects.SessionsRevoked, user.id]);
    expect(rows).toHaveLength(1);
  });

  it('take a sign-out with a token whose replacement was used as theft, and one with the current token as a sign-out', async () => {
    const { app, lines } = frozenApp();
    const user = await signupOn(app);
    const next = refreshCookieOf(await refreshWith(app, user.refresh))!;
    const newest = refreshCookieOf(await refreshWith(app, next))!;
    expect((await request(app).post('/api/users/signout').set('Cookie', user.refresh)).status).toBe(200);
    expect(lines().some((line) => String(line.msg).includes('suspected theft') && line.userId === user.id)).toBe(true);
    expect((await refreshWith(app, newest)).status).toBe(401);
  });

  it('answer 503 rather than hold the user\'s row when a revocation is dated ahead of the database clock', async () => {
    const user = await signupOn(auth.app);
    await auth.db.query("UPDATE users SET sessions_revoked_at = clock_timestamp() + interval '20 seconds' WHERE id = $1", [user.id]);
    const started = Date.now();
    const res = await refreshWith(auth.app, user.refresh);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ errors: [{ message: 'Try again in a moment' }] });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('expire after the idle lifetime unused, judged by a frozen clock', async () => {
    const { app, clock } = frozenApp();
    const user = await signupOn(app);
    clock.ms += 7 * DAY_MS - 1;
    const used = await refreshWith(app, user.refresh);
    expect(used.status).toBe(200);
    clock.ms += 7 * DAY_MS;
    const idle = await refreshWith(app, refreshCookieOf(used)!);
    expect(idle.status).toBe(401);
  });

  it('expire at the absolute lifetime, however often they are used', async () => {
    const { app, clock } = frozenApp();
    const user = await signupOn(app);
    let cookie = user.refresh;
    for (let day = 6; day < 30; day += 6) {
      clock.ms += 6 * DAY_MS;
      const res = await refreshWith(app, cookie);
      expect(res.status, `day ${day}`).toBe(200);
      cookie = refreshCookieOf(res)!;
      // The cookie never outlives the family.
      expect(Date.parse(/Expires=([^;]+)/.exec(setCookies(res).find((line) => line.startsWith('refresh='))!)![1]!)).toBeLessThanOrEqual(clock.ms + 7 * DAY_MS);
    }
    clock.ms += 6 * DAY_MS; // day 30
    expect((await refreshWith(app, cookie)).status).toBe(401);
  });

  it('answer a banned user\'s refresh with 403, and the ban ends every session for good', async () => {
    const admin = await adminCookie();
    const user = await signupOn(auth.app);
    expect((await request(auth.app).post(`/api/admin/users/${user.id}/ban`).set('Cookie', admin).send({ reason: 'spam' })).status).toBe(200);
    const res = await refreshWith(auth.app, user.refresh);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: 'User is banned' }] });
    const { rows } = await auth.db.query<{ revoked_reason: string }>('SELECT revoked_reason FROM refresh_families WHERE user_id = $1', [user.id]);
    expect(rows).toEqual([{ revoked_reason: 'banned' }]);
    expect((await request(auth.app).post(`/api/admin/users/${user.id}/unban`).set('Cookie', admin)).status).toBe(200);
    expect((await refreshWith(auth.app, user.refresh)).status).toBe(401);
  });

  it('refuse a missing, malformed, unknown or foreign refresh token with 401, never 500', async () => {
    const user = await signupOn(auth.app);
    const cases = [
      undefined,
      'refresh=',
      'refresh=short',
      `refresh=${'A'.repeat(42)}!`,
      `refresh=${'x'.repeat(10_000)}`,
      'refresh=%E0%A4%A',
      `refresh=${'A'.repeat(43)}`,
      `refresh=${tokenOf(user.refresh).toUpperCase()}`,
      `refresh="${tokenOf(user.refresh)}"`,
      `refresh=${tokenOf(user.refresh)}%00`,
    ];
    for (const cookie of cases) {
      const req = request(auth.app).post('/api/users/refresh');
      const res = await (cookie === undefined ? req : req.set('Cookie', cookie));
      expect(res.status, String(cookie).slice(0, 40)).toBe(401);
      expect(res.body).toEqual({ errors: [{ message: 'Invalid or expired refresh token' }] });
    }
    // None of that spent or harmed the real one.
    expect((await refreshWith(auth.app, user.refresh)).status).toBe(200);
  });

  it('clear a refresh cookie that cannot be read, and look past it to one that can', async () => {
    const broken = await refreshWith(auth.app, 'refresh=%E0%A4%A');
    expect(broken.status).toBe(401);
    expect(setCookies(broken).some((line) => /^refresh=;.*Path=\//.test(line))).toBe(true);
    const user = await signupOn(auth.app);
    expect((await refreshWith(auth.app, `refresh=%zz; ${user.refresh}`)).status).toBe(200);
  });

  it('mark every answer about sessions no-store', async () => {
    const user = await signupOn(auth.app);
    for (const res of [await refreshWith(auth.app, user.refresh), await request(auth.app).get('/api/users/currentuser'), await request(auth.app).post('/api/users/signin').send({})]) {
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('refuse a cross-site refresh that carries the cookie (403) and leave the token unspent', async () => {
    const user = await signupOn(auth.app);
    const res = await refreshWith(auth.app, user.refresh).set('Origin', 'https://evil.example').set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(403);
    expect((await refreshWith(auth.app, user.refresh)).status).toBe(200);
  });
});

describe('silent refresh on currentuser', () => {
  it('answers the user, and sets fresh cookies, when the access token expired but the refresh token is good', async () => {
    const user = await signupOn(auth.app);
    const longAgo = Date.now() - 3_600_000;
    const expired = cookieWithJwt(createTokenSigner({ key: createTokenKey(TEST_JWT_KEY), ttlMs: 15 * 60_000, now: () => longAgo }).sign({ id: user.id, email: user.email, role: 'user' }));
    for (const withExpiredAccessToken of [true, false]) {
      const cookies = withExpiredAccessToken ? `${expired}; ${user.refresh}` : user.refresh;
      const res = await request(auth.app).get('/api/users/currentuser').set('Cookie', cookies);
      expect(res.status).toBe(200);
      expect(res.body.currentUser).toMatchObject({ id: user.id, email: user.email, role: 'user', iat: expect.any(Number), exp: expect.any(Number) });
      expect(jwtClaims(sessionCookieOf(res)).id).toBe(user.id);
      user.refresh = refreshCookieOf(res)!;
      expect(user.refresh).toBeDefined();
    }
  });

  it('answers null and clears both cookies when the refresh token is no good either', async () => {
    const res = await request(auth.app).get('/api/users/currentuser').set('Cookie', `refresh=${'A'.repeat(43)}`);
    expect(res.body).toEqual({ currentUser: null });
    expect(setCookies(res).some((line) => /^refresh=;/.test(line))).toBe(true);
  });

  it('refreshes nothing on a GET another site made the browser send, and leaves the token unspent', async () => {
    const user = await signupOn(auth.app);
    const res = await request(auth.app).get('/api/users/currentuser').set('Cookie', user.refresh).set('Sec-Fetch-Site', 'cross-site');
    expect(res.body).toEqual({ currentUser: null });
    expect(setCookies(res)).toEqual([]);
    expect((await refreshWith(auth.app, user.refresh)).status).toBe(200);
  });

  it('says a banned user is banned, from the access token or from the refresh token alone, and clears both cookies', async () => {
    const user = await signupOn(auth.app);
    const admin = await adminCookie();
    expect((await request(auth.app).post(`/api/admin/users/${user.id}/ban`).set('Cookie', admin).send({ reason: 'spam' })).status).toBe(200);
    for (const cookies of [`${user.session}; ${user.refresh}`, user.refresh]) {
      const res = await request(auth.app).get('/api/users/currentuser').set('Cookie', cookies);
      expect(res.body).toEqual({ currentUser: null, banned: true });
      expect(setCookies(res).some((line) => /^refresh=;/.test(line))).toBe(true);
    }
    // Nobody else learns it: without the user's tokens the answer is the anonymous one.
    expect((await request(auth.app).get('/api/users/currentuser')).body).toEqual({ currentUser: null });
  });

  it('refreshes nothing for a client that asks for tokens in the body: it refreshes explicitly', async () => {
    const user = await signupOn(auth.app);
    const res = await request(auth.app).get('/api/users/currentuser').set('Cookie', user.refresh).set('X-Token-Delivery', 'body');
    expect(res.body).toEqual({ currentUser: null });
  });
});

describe('signing out', () => {
  it('signout ends this session only: its refresh token stops working, another device\'s does not', async () => {
    const user = await signupOn(auth.app);
    const other = refreshCookieOf(await request(auth.app).post('/api/users/signin').send({ email: user.email, password: PASSWORD }))!;
    const res = await request(auth.app).post('/api/users/signout').set('Cookie', `${user.session}; ${user.refresh}`);
    expect(res.status).toBe(200);
    expect(setCookies(res).some((line) => /^session=;/.test(line))).toBe(true);
    expect(setCookies(res).some((line) => /^refresh=;.*Path=\//.test(line))).toBe(true);
    expect((await refreshWith(auth.app, user.refresh)).status).toBe(401);
    expect((await refreshWith(auth.app, other)).status).toBe(200);
  });

  it('signout-all ends every session and every access token of the user, through the outbox', async () => {
    const user = await signupOn(auth.app);
    const other = await request(auth.app).post('/api/users/signin').send({ email: user.email, password: PASSWORD });
    const res = await request(auth.app).post('/api/users/signout-all').set('Cookie', `${user.session}; ${user.refresh}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    for (const cookie of [user.refresh, refreshCookieOf(other)!]) expect((await refreshWith(auth.app, cookie)).status).toBe(401);
    const { rows } = await auth.db.query<{ payload: { notBefore: string; version: number } }>(
      'SELECT payload FROM outbox WHERE subject = $1 AND payload->>\'userId\' = $2', [Subjects.SessionsRevoked, user.id],
    );
    expect(rows.map((row) => row.payload.version)).toEqual([1]);
    await waitFor(() => auth.deps.banSync.bans.isRevoked(user.id, Date.parse(rows[0]!.payload.notBefore)), { what: 'the event to come back from NATS' });
    // The other device's access token is refused where the ban list is asked (the admin routes) and by currentuser.
    expect((await request(auth.app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(other))).body).toEqual({ currentUser: null });
    const again = await request(auth.app).post('/api/users/signout-all').set('Cookie', sessionCookieOf(other));
    expect(again.status).toBe(401);
    expect(again.body).toEqual({ errors: [{ message: 'Signed out everywhere; sign in again' }] });
    // Signing in again works, and its token is dated after the revocation.
    const back = await request(auth.app).post('/api/users/signin').send({ email: user.email, password: PASSWORD });
    expect((await request(auth.app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(back))).body.currentUser).toMatchObject({ id: user.id });
  });

  it('signout-all needs a signed-in user (401) and refuses a cross-site request (403)', async () => {
    expect((await request(auth.app).post('/api/users/signout-all')).status).toBe(401);
    const user = await signupOn(auth.app);
    const res = await request(auth.app).post('/api/users/signout-all').set('Cookie', user.session).set('Origin', 'https://evil.example');
    expect(res.status).toBe(403);
    expect((await refreshWith(auth.app, user.refresh)).status).toBe(200);
  });
});

describe('changing the password', () => {
  const change = (cookie: string, body: unknown) => request(auth.app).post('/api/users/password').set('Cookie', cookie).send(body as object);

  it('needs the current password, then ends every other session and keeps this one signed in', async () => {
    const user = await signupOn(auth.app);
    const other = await request(auth.app).post('/api/users/signin').send({ email: user.email, password: PASSWORD });
    const wrong = await change(user.session, { currentPassword: 'wrong-password', newPassword: 'new password 1' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ errors: [{ message: 'Invalid credentials', field: 'currentPassword' }] });

    const res = await change(user.session, { currentPassword: PASSWORD, newPassword: 'new password 1' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: user.id, email: user.email, role: 'user' });
    const me = await request(auth.app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(res));
    expect(me.body.currentUser).toMatchObject({ id: user.id });
    expect((await refreshWith(auth.app, refreshCookieOf(res)!)).status).toBe(200);
    for (const cookie of [user.refresh, refreshCookieOf(other)!]) expect((await refreshWith(auth.app, cookie)).status).toBe(401);
    expect((await request(auth.app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(other))).body).toEqual({ currentUser: null });
    expect((await request(auth.app).post('/api/users/signin').send({ email: user.email, password: PASSWORD })).status).toBe(400);
    expect((await request(auth.app).post('/api/users/signin').send({ email: user.email, password: 'new password 1' })).status).toBe(200);
  });

  it.each([
    [{}, ['currentPassword', 'newPassword']],
    [{ currentPassword: PASSWORD }, ['newPassword']],
    [{ currentPassword: PASSWORD, newPassword: 'short' }, ['newPassword']],
    [{ currentPassword: PASSWORD, newPassword: 'x'.repeat(129) }, ['newPassword']],
    [{ currentPassword: 42, newPassword: 'new password 1' }, ['currentPassword']],
    [{ currentPassword: PASSWORD, newPassword: ['new password 1'] }, ['newPassword']],
  ])('answers %j with 400 naming %j, and changes nothing', async (body, fields) => {
    const user = await signupOn(auth.app);
    const res = await change(user.session, body);
    expect(res.status).toBe(400);
    expect([...new Set(res.body.errors.map((error: { field: string }) => error.field))].sort()).toEqual(fields);
    expect((await request(auth.app).post('/api/users/signin').send({ email: user.email, password: PASSWORD })).status).toBe(200);
  });

  it('needs a signed-in user', async () => {
    expect((await request(auth.app).post('/api/users/password').send({ currentPassword: PASSWORD, newPassword: 'new password 1' })).status).toBe(401);
  });
});

describe('tokens for API clients (X-Token-Delivery: body)', () => {
  const asApiClient = (req: request.Test) => req.set('X-Token-Delivery', 'body');

  it('get their tokens in the body and no cookie, refresh with the token in the body, and sign out with it', async () => {
    const email = nextEmail('api');
    const signup = await asApiClient(request(auth.app).post('/api/users/signup')).send({ email, password: PASSWORD });
    expect(signup.status).toBe(201);
    expect(setCookies(signup)).toEqual([]);
    expect(signup.body).toMatchObject({ email, role: 'user', tokens: {
      accessToken: expect.any(String), accessTokenExpiresAt: expect.any(String), refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), refreshTokenExpiresAt: expect.any(String),
    } });
    const { tokens } = signup.body as { tokens: { accessToken: string; refreshToken: string; accessTokenExpiresAt: string } };
    expect(Date.parse(tokens.accessTokenExpiresAt)).toBe(jwtPayload(tokens.accessToken).exp * 1000);
    const me = await request(auth.app).get('/api/users/currentuser').set('Authorization', `Bearer ${tokens.accessToken}`);
    expect(me.body.currentUser).toMatchObject({ email });

    const refreshed = await asApiClient(request(auth.app).post('/api/users/refresh')).send({ refreshToken: tokens.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(setCookies(refreshed)).toEqual([]);
    const next = refreshed.body.tokens.refreshToken as string;
    expect(next).not.toBe(tokens.refreshToken);
    // A browser's refresh reads the cookie only: a token in the body is not looked at.
    expect((await request(auth.app).post('/api/users/refresh').send({ refreshToken: next })).status).toBe(401);

    expect((await asApiClient(request(auth.app).post('/api/users/signout')).send({ refreshToken: next })).status).toBe(200);
    expect((await asApiClient(request(auth.app).post('/api/users/refresh')).send({ refreshToken: next })).status).toBe(401);
  });

  it.each([
    [undefined, 400], [{}, 400], [{ refreshToken: 42 }, 400], [{ refreshToken: null }, 400], [{ refreshToken: ['x'] }, 400],
    [{ refreshToken: 'x'.repeat(2000) }, 400], [{ refreshToken: '' }, 401], [{ refreshToken: 'A'.repeat(43) }, 401],
  ])('answers a refresh with body %# with %i', async (body, status) => {
    const req = asApiClient(request(auth.app).post('/api/users/refresh'));
    const res = await (body === undefined ? req : req.send(body));
    expect(res.status).toBe(status);
    expect(res.body.errors).toEqual(expect.any(Array));
  });

  it('answers a sign-out with a malformed body with 400, and one without a token with 200', async () => {
    expect((await asApiClient(request(auth.app).post('/api/users/signout')).send({ refreshToken: 42 })).status).toBe(400);
    expect((await asApiClient(request(auth.app).post('/api/users/signout')).send({})).status).toBe(200);
  });
});

/** A signed-in admin's session cookie. */
async function adminCookie(): Promise<string> {
  const signup = await request(auth.app).post('/api/users/signup').send({ email: ADMIN_EMAIL, password: PASSWORD });
  if (signup.status === 201) return sessionCookieOf(signup);
  return sessionCookieOf(await request(auth.app).post('/api/users/signin').send({ email: ADMIN_EMAIL, password: PASSWORD }).expect(200));
}

/** The claims of a compact JWT, unverified. */
function jwtPayload(jwt: string): { id: string; iat: number; exp: number } {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { id: string; iat: number; exp: number };
}

/** The claims of the JWT in a `session=` cookie. */
const jwtClaims = (cookie: string) => jwtPayload(jwtFromCookie(cookie));
