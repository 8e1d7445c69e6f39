import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { AUTH_STREAM } from '@ticketing/common';
import { jwtFromCookie, sessionCookieOf, waitFor } from '@ticketing/testing';
import { signup } from './signup.js';
import { ADMIN_EMAIL, authAppWith, startAuth, type TestAuth } from './start-auth.js';
import type { PasswordHasher } from '../src/password-hasher.js';

let auth: TestAuth;
let adminCookie: string;
let adminId: string;
beforeAll(async () => {
  auth = await startAuth();
  ({ id: adminId, cookie: adminCookie } = await signup(auth, ADMIN_EMAIL));
});
afterAll(() => auth.close());

const newUser = (email: string) => signup(auth, email);

const ban = (id: string, body: unknown = { reason: 'spam' }, cookie = adminCookie) =>
  request(auth.app).post(`/api/admin/users/${id}/ban`).set('Cookie', cookie).send(body as object);
const unban = (id: string, cookie = adminCookie) => request(auth.app).post(`/api/admin/users/${id}/unban`).set('Cookie', cookie);

async function outbox(userId: string): Promise<{ subject: string; payload: Record<string, unknown>; published: boolean }[]> {
  const { rows } = await auth.db.query<{ subject: string; payload: Record<string, unknown>; published_at: Date | null }>(
    "SELECT subject, payload, published_at FROM outbox WHERE payload->>'userId' = $1 ORDER BY seq", [userId]);
  return rows.map((row) => ({ subject: row.subject, payload: row.payload, published: row.published_at !== null }));
}

async function streamMessages(): Promise<number> {
  const nc = await connect({ servers: auth.config.natsUrl });
  try {
    return (await (await jetstreamManager(nc)).streams.info(AUTH_STREAM)).state.messages;
  } finally {
    await nc.close();
  }
}

describe('access', () => {
  it('answers 401 signed out and 403 to a non-admin on every admin route', async () => {
    const user = await newUser('plain@example.com');
    const routes = [
      () => request(auth.app).get('/api/admin/users'),
      () => request(auth.app).post(`/api/admin/users/${adminId}/ban`).send({ reason: 'x' }),
      () => request(auth.app).post(`/api/admin/users/${adminId}/unban`),
    ];
    for (const route of routes) {
      const signedOut = await route();
      expect(signedOut.status).toBe(401);
      expect(signedOut.body).toEqual({ errors: [{ message: 'Not authenticated' }] });
      const notAdmin = await route().set('Cookie', user.cookie);
      expect(notAdmin.status).toBe(403);
      expect(notAdmin.body).toEqual({ errors: [{ message: 'Forbidden' }] });
    }
  });
});

describe('POST /api/admin/users/:id/ban and /unban', () => {
  it('bans: 200 with the admin view, one version-1 event in the outbox, published to the stream', async () => {
    const user = await newUser('banme@example.com');
    const res = await ban(user.id, { reason: '  abuse  ' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: user.id, email: 'banme@example.com', role: 'user', banned: true, banReason: 'abuse' });
    expect(Object.keys(res.body).sort()).toEqual(['banReason', 'banned', 'bannedAt', 'email', 'id', 'role']);
    const events = await outbox(user.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.subject).toBe('auth.user.banned');
    expect(events[0]!.payload).toMatchObject({ userId: user.id, reason: 'abuse', version: 1, bannedAt: res.body.bannedAt });
    await waitFor(async () => (await outbox(user.id))[0]!.published, { what: 'the ban event to be published' });
  });

  it('the banned user cannot sign in (403), and their token is refused by the ban list', async () => {
    const user = await newUser('nosignin@example.com');
    await ban(user.id).expect(200);
    const signin = await request(auth.app).post('/api/users/signin').send({ email: 'nosignin@example.com', password: 'password1' });
    expect(signin.status).toBe(403);
    expect(signin.body).toEqual({ errors: [{ message: 'User is banned' }] });
    const current = await request(auth.app).get('/api/users/currentuser').set('Cookie', user.cookie);
    expect(current.body).toEqual({ currentUser: null, banned: true });
    // A wrong password still answers the generic 400, so a ban is only revealed to the account holder.
    const wrong = await request(auth.app).post('/api/users/signin').send({ email: 'nosignin@example.com', password: 'wrong-password' });
    expect(wrong.status).toBe(400);
  });

  it('a signin that reaches its row lock while a ban holds the row waits for the ban, then is refused', async () => {
    // A ban in progress, stood in for by a transaction that locks the row as the ban handler does
    // and takes bannedAt under the lock. Without signin's share lock, signin would read the row as
    // not yet banned and sign a token issued after bannedAt, which the ban list would then let pass.
    const user = await newUser('race@example.com');
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let locked!: (pid: number) => void;
    const lockerPid = new Promise<number>((resolve) => { locked = resolve; });
    const banInProgress = auth.db.transaction(async (tx) => {
      await tx.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
      const bannedAt = new Date();
      locked((await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
      await released;
      await tx.query('UPDATE users SET banned_at = $2, ban_reason = $3, ban_version = ban_version + 1 WHERE id = $1', [user.id, bannedAt, 'race']);
    });
    try {
      const pid = await Promise.race([lockerPid, banInProgress.then(() => { throw new Error('the stand-in ban ended before locking'); })]);
      let answered = false;
      const signin = request(auth.app).post('/api/users/signin').send({ email: 'race@example.com', password: 'password1' })
        .then((res) => { answered = true; return res; });
      const outcome = await waitFor(async () => {
        if (answered) return 'answered while the ban held the row';
        const { rows } = await auth.db.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);
        return rows.length > 0 ? 'waiting for the ban' : undefined;
      }, { timeoutMs: 20_000, what: 'signin to wait for the row lock, or to answer' });
      expect(outcome).toBe('waiting for the ban');
      release();
      await banInProgress;
      const res = await signin;
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ errors: [{ message: 'User is banned' }] });
    } finally {
      release();
      await banInProgress;
    }
  });

  it('banning a banned user and unbanning an unbanned one change nothing and publish nothing', async () => {
    const user = await newUser('twice@example.com');
    expect((await unban(user.id)).body.banned).toBe(false);
    await ban(user.id).expect(200);
    const again = await ban(user.id, { reason: 'other reason' });
    expect(again.status).toBe(200);
    expect(again.body.banReason).toBe('spam');
    expect(await outbox(user.id)).toHaveLength(1);
  });

  it('unbans with the next version; the user can sign in again', async () => {
    const user = await newUser('unbanme@example.com');
    await ban(user.id).expect(200);
    const res = await unban(user.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ banned: false, bannedAt: null, banReason: null });
    const events = await outbox(user.id);
    expect(events.map((event) => [event.subject, event.payload.version])).toEqual([['auth.user.banned', 1], ['auth.user.unbanned', 2]]);
    expect(typeof events[1]!.payload.unbannedAt).toBe('string');
    const signin = await request(auth.app).post('/api/users/signin').send({ email: 'unbanme@example.com', password: 'password1' });
    expect(signin.status).toBe(200);
  });

  it('refuses an admin banning themself (403), an unknown id (404), a malformed id and a bad reason (400)', async () => {
    const self = await ban(adminId);
    expect(self.status).toBe(403);
    expect(self.body).toEqual({ errors: [{ message: 'Admins cannot ban themselves' }] });
    const unknown = await ban(randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ errors: [{ message: 'User not found' }] });
    expect((await unban(randomUUID())).status).toBe(404);
    const malformed = await ban('not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors).toContainEqual({ message: 'User id must be a UUID', field: 'id' });
    expect((await unban('1 OR 1=1')).status).toBe(400);
    const target = await newUser('reasons@example.com');
    for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 42 }, { reason: 'x'.repeat(501) }, { reason: 'nul \u0000 byte' }, { reason: 'esc \u001b[2K' }, { reason: 'csi \u009b2J' }]) {
      const res = await ban(target.id, body);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('reason');
    }
    const badJson = await request(auth.app).post(`/api/admin/users/${target.id}/ban`).set('Cookie', adminCookie)
      .set('Content-Type', 'application/json').send('{"reason":');
    expect(badJson.status).toBe(400);
    expect(await outbox(target.id)).toHaveLength(0);
  });
});

describe('signing in right after an unban', () => {
  it('gets a token dated after the ban, so every service lets it in, even within the ban\'s second', async () => {
    // A hasher that costs nothing, so the ban, the unban and the sign-in fit in one second.
    const instant: PasswordHasher = {
      hash: async (password) => `plain$${password}`,
      verify: async (password, stored) => stored === `plain$${password}`,
      verifyNothing: async () => false,
    };
    const app = authAppWith(auth, { hasher: instant });
    const created = await request(app).post('/api/users/signup').send({ email: 'quick-unban@example.com', password: 'password1' }).expect(201);
    const id = created.body.id as string;
    await waitFor(() => Date.now() % 1000 < 100, { what: 'the start of a second' });
    const banned = await ban(id);
    expect(banned.status).toBe(200);
    await unban(id).expect(200);
    const signin = await request(app).post('/api/users/signin').send({ email: 'quick-unban@example.com', password: 'password1' }).expect(200);
    const { iat } = JSON.parse(Buffer.from(jwtFromCookie(sessionCookieOf(signin)).split('.')[1]!, 'base64url').toString()) as { iat: number };
    const bannedAtMs = Date.parse(banned.body.bannedAt as string);
    expect(iat * 1000).toBeGreaterThan(bannedAtMs);
    await waitFor(() => auth.deps.banSync.bans.isBanned(id, bannedAtMs), { what: 'the ban to reach the ban list' });
    expect(auth.deps.banSync.bans.isBanned(id, iat * 1000)).toBe(false);
  });
});

describe('GET /api/admin/users', () => {
  it('lists users without password hashes, and filters with ?banned=true|false', async () => {
    const banned = await newUser('listed-banned@example.com');
    await newUser('listed-ok@example.com');
    await ban(banned.id).expect(200);
    const all = await request(auth.app).get('/api/admin/users').set('Cookie', adminCookie);
    expect(all.status).toBe(200);
    expect(JSON.stringify(all.body)).not.toMatch(/password|scrypt|version/i);
    const emails = all.body.map((user: { email: string }) => user.email);
    expect(emails).toEqual(expect.arrayContaining(['listed-banned@example.com', 'listed-ok@example.com']));
    const onlyBanned = await request(auth.app).get('/api/admin/users?banned=true').set('Cookie', adminCookie);
    expect(onlyBanned.body.length).toBeGreaterThan(0);
    expect(onlyBanned.body.every((user: { banned: boolean }) => user.banned)).toBe(true);
    const notBanned = await request(auth.app).get('/api/admin/users?banned=false').set('Cookie', adminCookie);
    expect(notBanned.body.every((user: { banned: boolean }) => !user.banned)).toBe(true);
    const page = await request(auth.app).get('/api/admin/users?limit=1&offset=1').set('Cookie', adminCookie);
    expect(page.body).toHaveLength(1);
    expect(page.body[0].email).toBe(emails[1]);
  });

  it('searches with ?q= for part of an email or a whole id, in any case, with % and _ matching themselves', async () => {
    const found = await newUser('findme_one@example.com');
    await newUser('findmexone@example.com');
    const search = async (q: string) => {
      const res = await request(auth.app).get('/api/admin/users').query({ q }).set('Cookie', adminCookie);
      expect(res.status).toBe(200);
      return res.body.map((user: { email: string }) => user.email);
    };
    expect(await search('  FindMe_ ')).toEqual(['findme_one@example.com']);
    expect(await search('findme')).toEqual(['findme_one@example.com', 'findmexone@example.com']);
    expect(await search(found.id.toUpperCase())).toEqual(['findme_one@example.com']);
    expect(await search('%')).toEqual([]);
    expect(await search('')).toEqual((await request(auth.app).get('/api/admin/users').set('Cookie', adminCookie)).body.map((user: { email: string }) => user.email));
  });

  it('answers 400 to a malformed filter', async () => {
    for (const query of ['banned=yes', 'limit=0', 'limit=abc', 'offset=-1', 'limit=501', 'q=a&q=b', `q=${'a'.repeat(255)}`, 'q=%00']) {
      const res = await request(auth.app).get(`/api/admin/users?${query}`).set('Cookie', adminCookie);
      expect(res.status).toBe(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
  });
});

describe('metrics', () => {
  it('exports the outbox and ban list metrics', async () => {
    await waitFor(async () => (await auth.relay!.relayPending()) === 0 && (await streamMessages()) > 0, { what: 'the relay to drain' });
    const res = { text: await auth.deps.metrics.registry.metrics() };
    const value = (name: string) => new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(res.text)?.[1];
    expect(value('outbox_pending_rows')).toBe('0');
    expect(value('outbox_oldest_pending_age_seconds')).toBe('0');
    expect(Number(value('outbox_published_total'))).toBeGreaterThan(0);
    expect(Number(value('ban_list_size'))).toBeGreaterThan(0);
    expect(value('ban_sync_caught_up')).toBe('1');
    expect(value('nats_connected')).toBe('1');
    expect(res.text).toMatch(/^ban_events_applied_total\{subject="auth.user.banned",result="applied"[^}]*\} [1-9]/m);
  });
});

describe('an admin banned in the database, before the ban list knows', () => {
  it('loses admin rights on auth at once, and can never unban themself', async () => {
    // No relay: the ban commits but its event is never published, so only the database knows.
    const isolated = await startAuth({ ADMIN_EMAILS: 'a@example.com,b@example.com' }, { relay: false });
    try {
      const [a, b] = [await signup(isolated, 'a@example.com'), await signup(isolated, 'b@example.com')];
      const selfUnban = await request(isolated.app).post(`/api/admin/users/${a.id}/unban`).set('Cookie', a.cookie);
      expect(selfUnban.status).toBe(403);
      expect(selfUnban.body).toEqual({ errors: [{ message: 'Admins cannot unban themselves' }] });

      await request(isolated.app).post(`/api/admin/users/${a.id}/ban`).set('Cookie', b.cookie).send({ reason: 'rogue' }).expect(200);
      expect(isolated.deps.banSync.bans.isBanned(a.id, Date.now())).toBe(false);
      for (const req of [
        request(isolated.app).post(`/api/admin/users/${a.id}/unban`),
        request(isolated.app).post(`/api/admin/users/${b.id}/ban`).send({ reason: 'revenge' }),
        request(isolated.app).get('/api/admin/users'),
      ]) {
        const res = await req.set('Cookie', a.cookie);
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ errors: [{ message: 'User is banned' }] });
      }
      const banned = await request(isolated.app).get('/api/admin/users?banned=true').set('Cookie', b.cookie);
      expect(banned.body.map((user: { id: string }) => user.id)).toEqual([a.id]);
    } finally {
      await isolated.close();
    }
  });
});
