import express from 'express';
import cookieSession from 'cookie-session';
import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { BanList } from '@ticketing/common/bans';
import { currentUser, errorHandler, requireAuth, signedInUser } from '@ticketing/common/http';
import {
  cacheVerifiedTokens, createTokenPublicKeys, createTokenSigner, createTokenSigningKey, createTokenVerifier, InvalidTokenError,
  type TokenVerifier,
} from '@ticketing/common/tokens';
import { capturingLogger, createEs256KeyPair } from '@ticketing/testing';
import { ALICE, KEY, T0, T0_SECONDS, signAt, verifierAt } from './fixtures.js';

/** A verifier that counts the tokens it was asked to verify, around a real one. */
function counting(inner: TokenVerifier): TokenVerifier & { calls: number } {
  const counter = {
    calls: 0,
    verify(token: string) {
      counter.calls += 1;
      return inner.verify(token);
    },
  };
  return counter;
}

/** A frozen clock that a test moves by hand. */
function clockAt(ms: number) {
  const clock = { ms, now: () => clock.ms };
  return clock;
}

describe('cacheVerifiedTokens', () => {
  it('verifies a token once, then answers the same claims from the cache', () => {
    const clock = clockAt(T0 + 1_000);
    const inner = counting(verifierAt(T0 + 1_000));
    const cached = cacheVerifiedTokens(inner, { max: 10, now: clock.now });
    const token = signAt(T0);
    const first = cached.verify(token);
    const second = cached.verify(token);
    expect(second).toEqual({ ...ALICE, iat: T0_SECONDS, exp: T0_SECONDS + 900 });
    expect(second).toBe(first);
    expect(inner.calls).toBe(1);
  });

  it('hands out frozen claims, so no caller can change what the next request sees', () => {
    const cached = cacheVerifiedTokens(verifierAt(T0), { max: 10, now: () => T0 });
    const claims = cached.verify(signAt(T0));
    expect(Object.isFrozen(claims)).toBe(true);
    expect(() => { (claims as { role: string }).role = 'admin'; }).toThrow(TypeError);
  });

  it('keeps an entry no longer than the token\'s exp: from then on the token is verified again, and refused', () => {
    const clock = clockAt(T0);
    // No clock tolerance, so at exp the verifier refuses the token.
    const real = counting(createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, clockToleranceMs: 0, now: clock.now }));
    const cached = cacheVerifiedTokens(real, { max: 10, now: clock.now });
    const token = signAt(T0);
    cached.verify(token);
    clock.ms = T0 + 899_999;
    cached.verify(token);
    expect(real.calls).toBe(1);
    clock.ms = T0 + 900_000;
    expect(() => cached.verify(token)).toThrow(InvalidTokenError);
    expect(real.calls).toBe(2);
    expect(() => cached.verify(token)).toThrow(InvalidTokenError);
    expect(real.calls).toBe(3);
  });

  it('never keeps a refused token: each attempt is verified again', () => {
    const inner = counting(verifierAt(T0));
    const cached = cacheVerifiedTokens(inner, { max: 10, now: () => T0 });
    const [header, , signature] = signAt(T0).split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...ALICE, role: 'admin', iat: T0_SECONDS, exp: T0_SECONDS + 900, iss: 'ticketing-auth' })).toString('base64url')}.${signature}`;
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(() => cached.verify(forged)).toThrow(InvalidTokenError);
      expect(inner.calls).toBe(attempt);
    }
  });

  it('keys entries by the exact token: another token of the same user is verified on its own', () => {
    const inner = counting(verifierAt(T0 + 5_000));
    const cached = cacheVerifiedTokens(inner, { max: 10, now: () => T0 + 5_000 });
    cached.verify(signAt(T0));
    cached.verify(signAt(T0 + 1_000));
    expect(inner.calls).toBe(2);
  });

  it('holds at most max tokens, dropping the least recently used', () => {
    const inner = counting(verifierAt(T0 + 10_000));
    const cached = cacheVerifiedTokens(inner, { max: 2, now: () => T0 + 10_000 });
    const [a, b, c] = [0, 1_000, 2_000].map((ms) => signAt(T0 + ms));
    cached.verify(a!);
    cached.verify(b!);
    cached.verify(a!); // a is now the most recent
    cached.verify(c!); // b goes
    expect(inner.calls).toBe(3);
    cached.verify(a!);
    expect(inner.calls).toBe(3);
    cached.verify(b!);
    expect(inner.calls).toBe(4);
  });

  it('refuses an unbounded or missing cache, or no verifier (TypeError)', () => {
    for (const max of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1_000_001]) {
      expect(() => cacheVerifiedTokens(verifierAt(T0), { max })).toThrow(TypeError);
    }
    expect(() => cacheVerifiedTokens(undefined as never, { max: 10 })).toThrow(TypeError);
  });

  it('keeps ES256 tokens too, and still refuses a banned user on a cache hit', async () => {
    const pair = createEs256KeyPair();
    const now = T0 + 1_000;
    const inner = counting(createTokenVerifier({ publicKeys: createTokenPublicKeys(pair.publicKeyPem), maxLifetimeMs: 900_000, now: () => now }));
    const verifier = cacheVerifiedTokens(inner, { max: 10, now: () => now });
    const token = createTokenSigner({ key: createTokenSigningKey(pair.privateKeyPem), ttlMs: 900_000, now: () => T0 }).sign(ALICE);
    const { logger } = capturingLogger();
    const bans = new BanList({ max: 10, windowMs: 930_000, logger, now: () => now });
    const app = express();
    app.use(cookieSession({ name: 'session', signed: false }));
    app.use(currentUser({ verifier, logger }));
    app.get('/api/me', requireAuth({ bans }), (req, res) => { res.json({ id: signedInUser(req).id }); });
    app.use(errorHandler({ logger }));

    const bearer = { authorization: `Bearer ${token}` };
    expect((await request(app).get('/api/me').set(bearer)).body).toEqual({ id: ALICE.id });
    bans.ban({ userId: ALICE.id, bannedAt: new Date(T0 + 500), version: 1 });
    const refused = await request(app).get('/api/me').set(bearer);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ errors: [{ message: 'User is banned' }] });
    // The second request was a hit: the signature was checked once.
    expect(inner.calls).toBe(1);
  });
});
