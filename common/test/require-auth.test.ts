import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { requireAuth, type BanChecker } from '@ticketing/common';
import { cookieWithJwt } from '@ticketing/testing';
import { ALICE, T0, T0_SECONDS, middlewareApp, signAt, whoAmI } from './fixtures.js';

/** A ban list that records what it was asked and answers `banned`. */
function recordingBans(banned: boolean, revoked = false): BanChecker & { calls: [string, number][] } {
  const calls: [string, number][] = [];
  return {
    calls,
    isBanned(userId, tokenIssuedAtMs) {
      calls.push([userId, tokenIssuedAtMs]);
      return banned;
    },
    isRevoked: () => revoked,
  };
}

function app(bans: BanChecker = recordingBans(false)) {
  return middlewareApp((a) => a.get('/private', requireAuth({ bans }), whoAmI)).app;
}

/** The Set-Cookie line for `session`, if any. */
function sessionSetCookie(res: request.Response): string | undefined {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  return header?.find((line) => line.startsWith('session='));
}

describe('requireAuth', () => {
  it('answers 401 Not authenticated without a token', async () => {
    const res = await request(app()).get('/private');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: 'Not authenticated' }] });
  });

  it('answers 401 to an invalid token', async () => {
    const res = await request(app()).get('/private').set('Authorization', `Bearer ${signAt(T0 - 7_200_000)}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: 'Not authenticated' }] });
  });

  it('lets a signed-in user through', async () => {
    const res = await request(app()).get('/private').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(200);
    expect(res.body.currentUser.id).toBe('11111111-1111-4111-8111-111111111111');
  });

  it('lets a user through when the ban list says not banned, asking with (userId, iat in ms)', async () => {
    const bans = recordingBans(false);
    const res = await request(app(bans)).get('/private').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(200);
    expect(bans.calls).toEqual([[ALICE.id, T0_SECONDS * 1000]]);
  });

  it('answers 403 User is banned and clears the session cookie', async () => {
    const bans = recordingBans(true);
    const res = await request(app(bans)).get('/private').set('Cookie', cookieWithJwt(signAt(T0)));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: 'User is banned' }] });
    expect(bans.calls).toEqual([['11111111-1111-4111-8111-111111111111', T0]]);
    const cookie = sessionSetCookie(res);
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/^session=;/);
    const expires = /expires=([^;]+)/i.exec(cookie!)?.[1];
    expect(expires).toBeDefined();
    expect(Date.parse(expires!)).toBeLessThan(Date.now());
  });

  it('answers 403 to a banned user who sent a Bearer header, clearing the cookie too', async () => {
    const res = await request(app(recordingBans(true))).get('/private').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: 'User is banned' }] });
    expect(sessionSetCookie(res)).toMatch(/^session=;.*expires=Thu, 01 Jan 1970/i);
  });

  it('answers 401 Signed out everywhere to a token from before its user\'s sessions were revoked, clearing the cookie', async () => {
    const res = await request(app(recordingBans(false, true))).get('/private').set('Cookie', cookieWithJwt(signAt(T0)));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: 'Signed out everywhere; sign in again' }] });
    expect(sessionSetCookie(res)).toMatch(/^session=;/);
  });

  it('answers 403 when the user is both banned and signed out everywhere: the ban is what the user must hear', async () => {
    const res = await request(app(recordingBans(true, true))).get('/private').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(403);
  });

  it('does not ask the ban list when nobody is signed in', async () => {
    const bans = recordingBans(true);
    const res = await request(app(bans)).get('/private');
    expect(res.status).toBe(401);
    expect(bans.calls).toEqual([]);
  });

  it('refuses a bans object without isBanned or isRevoked (TypeError): it would skip a check', () => {
    expect(() => requireAuth({ bans: {} as never })).toThrow(TypeError);
    expect(() => requireAuth({ bans: { isBanned: () => false } as never })).toThrow(/isRevoked/);
  });

  it('cannot be built without a ban list: a forgotten one fails at startup, not open', () => {
    expect(() => requireAuth({} as never)).toThrow(/bans is required/);
    expect(() => requireAuth({ bans: undefined } as never)).toThrow(TypeError);
    expect(() => (requireAuth as (options?: unknown) => unknown)()).toThrow(TypeError);
  });
});
