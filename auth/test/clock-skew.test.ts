import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { jwtFromCookie, sessionCookieOf, waitFor } from '@ticketing/testing';
import { signup } from './signup.js';
import { ADMIN_EMAIL, startAuth, type TestAuth } from './start-auth.js';

// Two auth replicas on one database whose clocks disagree, played by one app whose process clock
// the test moves between requests: Date (Date.now and new Date()) runs `skewMs` off the real clock,
// while PostgreSQL's clock stays real. It is installed before the app is built, since the app's
// parts keep the Date.now they were built with.
const RealDate = Date;
let skewMs = 0;
const SkewedDate = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [RealDate.now() + skewMs] : args, newTarget),
  apply: () => new RealDate(RealDate.now() + skewMs).toString(),
  get: (target, property, receiver) => (property === 'now' ? () => RealDate.now() + skewMs : Reflect.get(target, property, receiver)),
});

/** Runs `action` on a replica whose clock is `ms` off the real one (and the database's). */
async function withClockOff<T>(ms: number, action: () => Promise<T>): Promise<T> {
  skewMs = ms;
  try {
    return await action();
  } finally {
    skewMs = 0;
  }
}

let auth: TestAuth;
let adminCookie: string;
beforeAll(async () => {
  globalThis.Date = SkewedDate;
  auth = await startAuth();
  adminCookie = (await signup(auth, ADMIN_EMAIL)).cookie;
});
afterAll(async () => {
  await auth?.close();
  globalThis.Date = RealDate;
});

const iatOf = (cookie: string) => (JSON.parse(Buffer.from(jwtFromCookie(cookie).split('.')[1]!, 'base64url').toString()) as { iat: number }).iat;
const ban = (id: string) => request(auth.app).post(`/api/admin/users/${id}/ban`).set('Cookie', adminCookie).send({ reason: 'skew' }).expect(200);

/** Waits until auth's own ban list has applied the user's ban event, then says whether it refuses a token of this iat. */
async function banListRefuses(userId: string, iat: number): Promise<boolean> {
  await waitFor(() => auth.deps.banSync.bans.isActive(userId), { timeoutMs: 20_000, what: 'the ban event to reach the ban list' });
  return auth.deps.banSync.bans.isBanned(userId, iat * 1000);
}

describe('iat and bannedAt come from the database clock, whatever the replicas\' clocks say', () => {
  it('a token signed in on a replica 10 s ahead of the one that bans is refused by the ban list', async () => {
    await signup(auth, 'skew-signin@example.com');
    const signin = await request(auth.app).post('/api/users/signin').send({ email: 'skew-signin@example.com', password: 'password1' }).expect(200);
    const cookie = sessionCookieOf(signin);
    const banned = await withClockOff(-10_000, () => ban(signin.body.id));
    expect(await banListRefuses(signin.body.id, iatOf(cookie)), 'the ban list refuses the token from before the ban').toBe(true);
    expect(Date.parse(banned.body.bannedAt)).toBeGreaterThanOrEqual(iatOf(cookie) * 1000);
  });

  it('a token from signup on a replica 10 s ahead is refused once a replica on time bans the user', async () => {
    const { id, cookie } = await withClockOff(10_000, () => signup(auth, 'skew-signup@example.com'));
    const banned = await ban(id);
    expect(await banListRefuses(id, iatOf(cookie)), 'the ban list refuses the token from before the ban').toBe(true);
    expect(Date.parse(banned.body.bannedAt)).toBeGreaterThanOrEqual(iatOf(cookie) * 1000);
  });

  it('the unban event is dated by the database too, so never before the ban it lifts', async () => {
    const { id } = await signup(auth, 'skew-unban@example.com');
    const banned = await ban(id);
    await withClockOff(-10_000, () => request(auth.app).post(`/api/admin/users/${id}/unban`).set('Cookie', adminCookie).expect(200));
    const { rows } = await auth.db.query<{ unbanned_at: string }>(
      "SELECT payload->>'unbannedAt' AS unbanned_at FROM outbox WHERE subject = 'auth.user.unbanned' AND payload->>'userId' = $1", [id]);
    expect(rows).toHaveLength(1);
    expect(Date.parse(rows[0]!.unbanned_at)).toBeGreaterThanOrEqual(Date.parse(banned.body.bannedAt));
  });
});
