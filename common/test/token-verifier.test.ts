import { generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, it, expect } from 'vitest';
import {
  createTokenSigner,
  createTokenVerifier,
  InvalidTokenError,
  type TokenVerifier,
} from '@ticketing/common';
import { ADMIN, ALICE, KEY, OTHER_KEY, SECRET, T0, T0_SECONDS, base64url, rawToken, signAt, verifierAt } from './fixtures.js';

/** The refusal `verify` throws; fails the test when the token is accepted or something else is thrown. */
function refusal(verifier: TokenVerifier, token: string): InvalidTokenError {
  let thrown: unknown;
  try {
    const accepted = verifier.verify(token);
    expect.fail(`token was accepted: ${JSON.stringify(accepted)}`);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidTokenError);
  return thrown as InvalidTokenError;
}

const VALID_CLAIMS = { id: 'user-1', email: 'alice@example.com', role: 'user', iat: T0_SECONDS, exp: T0_SECONDS + 900, iss: 'ticketing-auth' };

describe('verifying a valid token', () => {
  it('returns the claims id, email, role, iat and exp', () => {
    const token = signAt(T0);
    expect(verifierAt(T0).verify(token)).toEqual({
      id: 'user-1',
      email: 'alice@example.com',
      role: 'user',
      iat: T0_SECONDS,
      exp: T0_SECONDS + 900,
    });
    expect((jwt.decode(token) as jwt.JwtPayload).iss).toBe('ticketing-auth');
  });

  it('keeps the admin role', () => {
    expect(verifierAt(T0).verify(signAt(T0, ADMIN)).role).toBe('admin');
  });

  it('accepts the token during its whole lifetime', () => {
    const token = signAt(T0);
    expect(verifierAt(T0 + 899_999, 0).verify(token).id).toBe('user-1');
  });

  it('accepts an expired token while within the clock tolerance', () => {
    const token = signAt(T0);
    // 900s lifetime + 30s tolerance: one second before the end of the tolerance.
    expect(verifierAt(T0 + 929_000, 30_000).verify(token).id).toBe('user-1');
  });

  it('accepts a token issued slightly in the future, within the clock tolerance', () => {
    const token = signAt(T0 + 20_000);
    expect(verifierAt(T0, 30_000).verify(token).iat).toBe(T0_SECONDS + 20);
  });

  it('accepts any algorithm that was pinned', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, algorithm: 'HS512', now: () => T0 }).sign(ALICE);
    const verifier = createTokenVerifier({ key: KEY, algorithms: ['HS256', 'HS512'], now: () => T0 });
    expect(verifier.verify(token).id).toBe('user-1');
  });

  it('accepts a custom issuer when signer and verifier agree', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, issuer: 'staging-auth', now: () => T0 }).sign(ALICE);
    expect(createTokenVerifier({ key: KEY, issuer: 'staging-auth', now: () => T0 }).verify(token).id).toBe('user-1');
  });

  it('defaults to a 30 second clock tolerance', () => {
    const token = signAt(T0);
    const at = (ms: number) => createTokenVerifier({ key: KEY, now: () => ms });
    expect(at(T0 + 929_000).verify(token).id).toBe('user-1');
    refusal(at(T0 + 930_000), token);
  });
});

describe('refusing a token', () => {
  it('refuses an expired token once past exp plus the tolerance', () => {
    const token = signAt(T0);
    expect(refusal(verifierAt(T0 + 930_000, 30_000), token).reason).toMatch(/expired/);
    expect(refusal(verifierAt(T0 + 3_600_000, 30_000), token).reason).toMatch(/expired/);
  });

  it('refuses an expired token at once when the tolerance is zero', () => {
    expect(refusal(verifierAt(T0 + 900_000, 0), signAt(T0)).reason).toMatch(/expired/);
  });

  it('refuses a token that is not yet valid (nbf in the future)', () => {
    const token = rawToken({ ...VALID_CLAIMS, nbf: T0_SECONDS + 120 });
    expect(refusal(verifierAt(T0, 30_000), token).reason).toMatch(/not active/);
    // ...and accepts it once nbf is reached.
    expect(verifierAt(T0 + 120_000, 30_000).verify(token).id).toBe('user-1');
  });

  it('refuses a token issued in the future beyond the tolerance', () => {
    const token = signAt(T0 + 31_000);
    expect(refusal(verifierAt(T0, 30_000), token).reason).toMatch(/iat is in the future/);
  });

  it('refuses a token signed with another key', () => {
    const token = createTokenSigner({ key: OTHER_KEY, ttlMs: 60_000, now: () => T0 }).sign(ALICE);
    expect(refusal(verifierAt(T0), token).reason).toMatch(/invalid signature/);
  });

  it('refuses an alg:none token with an empty signature', () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(VALID_CLAIMS)}.`;
    // A well-formed unsecured JWT: jsonwebtoken accepts it when told to allow 'none' without a key.
    expect(jwt.verify(token, '', { algorithms: ['none'], clockTimestamp: T0_SECONDS })).toMatchObject({ id: 'user-1' });
    refusal(verifierAt(T0), token);
  });

  it('refuses an alg:none token even with a signature part', () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...VALID_CLAIMS, role: 'admin' })}`;
    const signature = signAt(T0).split('.')[2];
    refusal(verifierAt(T0), `${unsigned}.${signature}`);
  });

  it('refuses an HS256 token when only HS512 is pinned', () => {
    const verifier = createTokenVerifier({ key: KEY, algorithms: ['HS512'], now: () => T0 });
    expect(refusal(verifier, signAt(T0)).reason).toMatch(/invalid algorithm/);
  });

  it('refuses an HS512 token by default (HS256 only)', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, algorithm: 'HS512', now: () => T0 }).sign(ALICE);
    expect(refusal(verifierAt(T0), token).reason).toMatch(/invalid algorithm/);
  });

  it('refuses a tampered payload (role changed to admin, signature kept)', () => {
    const [header, payload, signature] = signAt(T0).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims.role).toBe('user');
    const tampered = `${header}.${base64url({ ...claims, role: 'admin' })}.${signature}`;
    expect(refusal(verifierAt(T0), tampered).reason).toMatch(/invalid signature/);
  });

  it('refuses a wrong issuer', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, issuer: 'evil-auth', now: () => T0 }).sign(ALICE);
    expect(refusal(verifierAt(T0), token).reason).toMatch(/issuer/);
  });

  it('refuses a token with no issuer', () => {
    const { iss: _iss, ...claims } = VALID_CLAIMS;
    expect(refusal(verifierAt(T0), rawToken(claims)).reason).toMatch(/issuer/);
  });

  it.each([
    ['empty', ''],
    ['one word', 'abc'],
    ['three dots', 'a.b.c'],
    ['two dots only', '..'],
    ['random base64', randomBytes(64).toString('base64')],
    ['random base64url parts', `${randomBytes(12).toString('base64url')}.${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`],
    ['a JSON header with a garbage payload', `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url('not json')}.abc`],
    ['a payload that is a string', `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url('"hello"')}.abc`],
  ])('refuses garbage: %s', (_name, token) => {
    refusal(verifierAt(T0), token);
  });

  it('refuses a non-string token', () => {
    refusal(verifierAt(T0), undefined as never);
    refusal(verifierAt(T0), 42 as never);
  });

  it('refuses a token without an id', () => {
    const { id: _id, ...claims } = VALID_CLAIMS;
    expect(refusal(verifierAt(T0), rawToken(claims)).reason).toMatch(/id claim/);
    expect(refusal(verifierAt(T0), rawToken({ ...claims, id: '' })).reason).toMatch(/id claim/);
    expect(refusal(verifierAt(T0), rawToken({ ...claims, id: 17 })).reason).toMatch(/id claim/);
  });

  it('refuses a token without an email', () => {
    const { email: _email, ...claims } = VALID_CLAIMS;
    expect(refusal(verifierAt(T0), rawToken(claims)).reason).toMatch(/email claim/);
  });

  it('refuses an unknown role', () => {
    expect(refusal(verifierAt(T0), rawToken({ ...VALID_CLAIMS, role: 'root' })).reason).toMatch(/role claim/);
    const { role: _role, ...claims } = VALID_CLAIMS;
    expect(refusal(verifierAt(T0), rawToken(claims)).reason).toMatch(/role claim/);
  });

  it('refuses a token without exp', () => {
    const { exp: _exp, ...claims } = VALID_CLAIMS;
    const token = rawToken(claims);
    expect((jwt.decode(token) as jwt.JwtPayload).exp).toBeUndefined();
    expect(refusal(verifierAt(T0), token).reason).toMatch(/exp claim/);
  });

  it('refuses a token without iat', () => {
    const { iat: _iat, ...claims } = VALID_CLAIMS;
    const token = rawToken(claims, { noTimestamp: true });
    expect((jwt.decode(token) as jwt.JwtPayload).iat).toBeUndefined();
    expect(refusal(verifierAt(T0), token).reason).toMatch(/iat claim/);
  });

  it('keeps the token out of the error message', () => {
    const token = signAt(T0 - 3_600_000);
    const err = refusal(verifierAt(T0), token);
    expect(err.message).toMatch(/^invalid token: /);
    expect(err.message).not.toContain(token);
    expect(err.message).not.toContain(token.split('.')[2]);
  });
});

describe('createTokenVerifier options', () => {
  it('refuses a key that is not a secret KeyObject with a TypeError', () => {
    expect(() => createTokenVerifier({ key: SECRET as never })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: Buffer.from(SECRET) as never })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: undefined as never })).toThrow(TypeError);
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => createTokenVerifier({ key: publicKey })).toThrow(TypeError);
  });

  it('refuses an empty algorithm list with a TypeError', () => {
    expect(() => createTokenVerifier({ key: KEY, algorithms: [] })).toThrow(TypeError);
  });

  it('refuses a negative or non-finite clock tolerance with a TypeError', () => {
    expect(() => createTokenVerifier({ key: KEY, clockToleranceMs: -1 })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: KEY, clockToleranceMs: Number.NaN })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: KEY, clockToleranceMs: Number.POSITIVE_INFINITY })).toThrow(TypeError);
  });
});
