import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { capturingLogger, sessionCookieOf } from '@ticketing/testing';
import { ADMIN_EMAIL, authAppWith, startAuth, type TestAuth } from './start-auth.js';

// Every admin action and security event is one audit line at info or above, on the request's
// logger: who did what to whom, with the event id when an event was published.
let auth: TestAuth;
const { logger, lines } = capturingLogger();
let app: TestAuth['app'];
beforeAll(async () => {
  auth = await startAuth();
  app = authAppWith(auth, { logger, settings: { authAccountRateLimitPerMinute: 2, authAccountGlobalRateLimitPerMinute: 50 } });
});
afterAll(() => auth.close());

const audits = (event: string) => lines().filter((line) => line.audit === event);
const PASSWORD = 'password1';

async function signup(email: string): Promise<{ id: string; cookie: string; requestId: string }> {
  const res = await request(app).post('/api/users/signup').send({ email, password: PASSWORD }).expect(201);
  return { id: res.body.id as string, cookie: sessionCookieOf(res), requestId: res.get('X-Request-Id')! };
}

async function outboxEventIds(userId: string, subject: string): Promise<string[]> {
  const { rows } = await auth.db.query<{ id: string }>("SELECT id FROM outbox WHERE payload->>'userId' = $1 AND subject = $2 ORDER BY seq", [userId, subject]);
  return rows.map((row) => row.id);
}

describe('audit lines', () => {
  it('records who banned and unbanned whom, why, and the event id', async () => {
    const admin = await signup(ADMIN_EMAIL);
    const user = await signup('audited@example.com');
    expect(audits('user.signed_up').find((line) => line.userId === admin.id)).toMatchObject({ level: 30, role: 'admin', requestId: admin.requestId });

    const banned = await request(app).post(`/api/admin/users/${user.id.toUpperCase()}/ban`).set('Cookie', admin.cookie).send({ reason: 'spam' }).expect(200);
    const [banEventId] = await outboxEventIds(user.id, 'auth.user.banned');
    expect(audits('user.banned')).toEqual([expect.objectContaining({
      level: 30, actorId: admin.id, userId: user.id, reason: 'spam', eventId: banEventId, bannedAt: banned.body.bannedAt, requestId: banned.get('X-Request-Id'),
    })]);
    await request(app).post(`/api/admin/users/${user.id}/ban`).set('Cookie', admin.cookie).send({ reason: 'again' }).expect(200);
    expect(audits('user.ban_unchanged')).toEqual([expect.objectContaining({ actorId: admin.id, userId: user.id, reason: 'again' })]);

    await request(app).post('/api/users/signin').send({ email: 'audited@example.com', password: PASSWORD }).expect(403);
    expect(audits('signin.banned')).toEqual([expect.objectContaining({ userId: user.id })]);

    await request(app).post(`/api/admin/users/${user.id}/unban`).set('Cookie', admin.cookie).expect(200);
    const [unbanEventId] = await outboxEventIds(user.id, 'auth.user.unbanned');
    expect(audits('user.unbanned')).toEqual([expect.objectContaining({ level: 30, actorId: admin.id, userId: user.id, eventId: unbanEventId })]);

    await request(app).get('/api/admin/users?banned=true').set('Cookie', admin.cookie).expect(200);
    expect(audits('admin.users_listed').at(-1)).toMatchObject({ actorId: admin.id, banned: true, limit: 100, offset: 0 });

    // A plain user knocking on admin routes is recorded too.
    const plain = await signup('not-an-admin@example.com');
    await request(app).post(`/api/admin/users/${user.id}/ban`).set('Cookie', plain.cookie).send({ reason: 'x' }).expect(403);
    expect(audits('role.refused').at(-1)).toMatchObject({ userId: plain.id, role: 'user', needed: 'admin' });
  });

  it('records sign-ins, failed ones (the account\'s id, never the email typed) and rate limiting', async () => {
    const user = await signup('failing@example.com');
    const other = await signup('someone-else@example.com');
    // Signed in as someone else's cookie: the request line names who signed in.
    const signedIn = await request(app).post('/api/users/signin').set('Cookie', other.cookie).send({ email: 'failing@example.com', password: PASSWORD }).expect(200);
    expect(audits('user.signed_in').at(-1)).toMatchObject({ userId: user.id });
    expect(lines().find((line) => line.requestId === signedIn.get('X-Request-Id') && line.status === 200)).toMatchObject({ userId: user.id });
    await request(app).post('/api/users/signin').send({ email: 'failing@example.com', password: 'wrong-password' }).expect(400);
    await request(app).post('/api/users/signin').send({ email: 'nobody@example.com', password: 'wrong-password' }).expect(400);
    expect(audits('signin.failed').slice(-2).map((line) => line.userId)).toEqual([user.id, null]);
    await request(app).post('/api/users/signin').send({ email: 'failing@example.com', password: 'wrong-password' }).expect(400);
    await request(app).post('/api/users/signin').send({ email: 'failing@example.com', password: 'wrong-password' }).expect(429);
    expect(audits('rate_limited').at(-1)).toMatchObject({ level: 30, limiter: 'signin-account-address' });
    expect(JSON.stringify(lines())).not.toMatch(/wrong-password|nobody@example\.com|failing@example\.com/);
  });

  it('records signing out everywhere and password changes, with the revocation\'s event id', async () => {
    const user = await signup('leaving@example.com');
    await request(app).post('/api/users/password').set('Cookie', user.cookie).send({ currentPassword: 'not-it-at-all', newPassword: 'password2' }).expect(400);
    expect(audits('password.change_failed').at(-1)).toMatchObject({ userId: user.id });
    const changed = await request(app).post('/api/users/password').set('Cookie', user.cookie)
      .send({ currentPassword: PASSWORD, newPassword: 'password2' }).expect(200);
    await request(app).post('/api/users/signout-all').set('Cookie', sessionCookieOf(changed)).expect(200);
    const eventIds = await outboxEventIds(user.id, 'auth.user.sessions-revoked');
    expect(eventIds).toHaveLength(2);
    expect(audits('password.changed')).toEqual([expect.objectContaining({ userId: user.id, eventId: eventIds[0] })]);
    expect(audits('sessions.revoked')).toEqual([expect.objectContaining({ userId: user.id, eventId: eventIds[1], why: 'signed out everywhere' })]);
  });
});
