import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, it, expect } from 'vitest';
import { createTokenSigner, TOKEN_ISSUER } from '@ticketing/common';
import { ALICE, KEY, SECRET, T0, T0_SECONDS } from './fixtures.js';

describe('createTokenSigner', () => {
  it('signs id, email, role, iat, exp and iss with HS256', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 15 * 60_000, now: () => T0 }).sign(ALICE);
    const { header, payload } = jwt.decode(token, { complete: true })!;
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({
      id: '11111111-1111-4111-8111-111111111111',
      email: 'alice@example.com',
      role: 'user',
      iat: T0_SECONDS,
      exp: T0_SECONDS + 900,
      iss: TOKEN_ISSUER,
    });
    expect(TOKEN_ISSUER).toBe('ticketing-auth');
  });

  it('signs with the key given (the secret verifies it)', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, now: () => T0 }).sign(ALICE);
    expect(() => jwt.verify(token, SECRET, { algorithms: ['HS256'], clockTimestamp: T0_SECONDS })).not.toThrow();
    expect(() => jwt.verify(token, 'z'.repeat(32), { algorithms: ['HS256'], clockTimestamp: T0_SECONDS })).toThrow(/invalid signature/);
  });

  it('copies only the documented claims from the user', () => {
    const user = { ...ALICE, passwordHash: 'never', version: 3 };
    const payload = jwt.decode(createTokenSigner({ key: KEY, ttlMs: 60_000, now: () => T0 }).sign(user)) as Record<string, unknown>;
    expect(Object.keys(payload).sort()).toEqual(['email', 'exp', 'iat', 'id', 'iss', 'role']);
  });

  it('rounds the clock and the lifetime down to whole seconds', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 1999, now: () => T0 + 999 }).sign(ALICE);
    const payload = jwt.decode(token) as jwt.JwtPayload;
    expect(payload.iat).toBe(T0_SECONDS);
    expect(payload.exp).toBe(T0_SECONDS + 1);
  });

  it('uses the issuer and algorithm given', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, issuer: 'other', algorithm: 'HS512', now: () => T0 }).sign(ALICE);
    const { header, payload } = jwt.decode(token, { complete: true })!;
    expect(header.alg).toBe('HS512');
    expect((payload as jwt.JwtPayload).iss).toBe('other');
  });

  it('refuses a key that is not a secret KeyObject with a TypeError', () => {
    expect(() => createTokenSigner({ key: SECRET as never, ttlMs: 60_000 })).toThrow(TypeError);
    expect(() => createTokenSigner({ key: Buffer.from(SECRET) as never, ttlMs: 60_000 })).toThrow(TypeError);
    expect(() => createTokenSigner({ key: undefined as never, ttlMs: 60_000 })).toThrow(TypeError);
    const { privateKey } = generateKeyPairSync('ed25519');
    expect(() => createTokenSigner({ key: privateKey, ttlMs: 60_000 })).toThrow(TypeError);
  });

  it('refuses a lifetime under one second with a TypeError', () => {
    expect(() => createTokenSigner({ key: KEY, ttlMs: 999 })).toThrow(TypeError);
    expect(() => createTokenSigner({ key: KEY, ttlMs: 0 })).toThrow(TypeError);
    expect(() => createTokenSigner({ key: KEY, ttlMs: Number.NaN })).toThrow(TypeError);
    expect(() => createTokenSigner({ key: KEY, ttlMs: Number.POSITIVE_INFINITY })).toThrow(TypeError);
  });
});
