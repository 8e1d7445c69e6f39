import { generateKeyPairSync, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, it, expect } from 'vitest';
import {
  createTokenSigner,
  createTokenVerifier,
  InvalidTokenError,
  type TokenRefusal,
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

const VALID_CLAIMS = { id: '11111111-1111-4111-8111-111111111111', email: 'alice@example.com', role: 'user', iat: T0_SECONDS, exp: T0_SECONDS + 900, iss: 'ticketing-auth' };

describe('verifying a valid token', () => {
  it('returns the claims id, email, role, iat and exp', () => {
    const token = signAt(T0);
    expect(verifierAt(T0).verify(token)).toEqual({
      id: '11111111-1111-4111-8111-111111111111',
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
    expect(verifierAt(T0 + 899_999, 0).verify(token).id).toBe('11111111-1111-4111-8111-111111111111');
  });

  it('accepts an expired token while within the clock tolerance', () => {
    const token = signAt(T0);
    // 900s lifetime + 30s tolerance: one second before the end of the tolerance.
    expect(verifierAt(T0 + 929_000, 30_000).verify(token).id).toBe('11111111-1111-4111-8111-111111111111');
  });

  it('accepts a token issued slightly in the future, within the clock tolerance', () => {
    const token = signAt(T0 + 20_000);
    expect(verifierAt(T0, 30_000).verify(token).iat).toBe(T0_SECONDS + 20);
  });

  it('accepts any algorithm that was pinned', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, algorithm: 'HS512', now: () => T0 }).sign(ALICE);
    const verifier = createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, algorithms: ['HS256', 'HS512'], now: () => T0 });
    expect(verifier.verify(token).id).toBe('11111111-1111-4111-8111-111111111111');
  });

  it('accepts a custom issuer when signer and verifier agree', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, issuer: 'staging-auth', now: () => T0 }).sign(ALICE);
    expect(createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, issuer: 'staging-auth', now: () => T0 }).verify(token).id).toBe('11111111-1111-4111-8111-111111111111');
  });

  it('defaults to a 30 second clock tolerance', () => {
    const token = signAt(T0);
    const at = (ms: number) => createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, now: () => ms });
    expect(at(T0 + 929_000).verify(token).id).toBe('11111111-1111-4111-8111-111111111111');
    refusal(at(T0 + 930_000), token);
  });
});

describe('refusing a token', () => {
  it('refuses an expired token once past exp plus the tolerance', () => {
    const token = signAt(T0);
    expect(refusal(verifierAt(T0 + 930_000, 30_000), token).message).toMatch(/expired/);
    expect(refusal(verifierAt(T0 + 3_600_000, 30_000), token).message).toMatch(/expired/);
  });

  it('refuses an expired token at once when the tolerance is zero', () => {
    expect(refusal(verifierAt(T0 + 900_000, 0), signAt(T0)).message).toMatch(/expired/);
  });

  it('refuses a token that is not yet valid (nbf in the future)', () => {
    const token = rawToken({ ...VALID_CLAIMS, nbf: T0_SECONDS + 120 });
    expect(refusal(verifierAt(T0, 30_000), token).message).toMatch(/not active/);
    // ...and accepts it once nbf is reached.
    expect(verifierAt(T0 + 120_000, 30_000).verify(token).id).toBe('11111111-1111-4111-8111-111111111111');
  });

  it('refuses a token issued in the future beyond the tolerance', () => {
    const token = signAt(T0 + 31_000);
    expect(refusal(verifierAt(T0, 30_000), token).message).toMatch(/iat is in the future/);
  });

  it('refuses a token signed with another key', () => {
    const token = createTokenSigner({ key: OTHER_KEY, ttlMs: 60_000, now: () => T0 }).sign(ALICE);
    expect(refusal(verifierAt(T0), token).message).toMatch(/invalid signature/);
  });

  it('refuses an alg:none token with an empty signature', () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(VALID_CLAIMS)}.`;
    // A well-formed unsecured JWT: jsonwebtoken accepts it when told to allow 'none' without a key.
    expect(jwt.verify(token, '', { algorithms: ['none'], clockTimestamp: T0_SECONDS })).toMatchObject({ id: '11111111-1111-4111-8111-111111111111' });
    refusal(verifierAt(T0), token);
  });

  it('refuses an alg:none token even with a signature part', () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...VALID_CLAIMS, role: 'admin' })}`;
    const signature = signAt(T0).split('.')[2];
    refusal(verifierAt(T0), `${unsigned}.${signature}`);
  });

  it('refuses an HS256 token when only HS512 is pinned', () => {
    const verifier = createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, algorithms: ['HS512'], now: () => T0 });
    expect(refusal(verifier, signAt(T0)).message).toMatch(/invalid algorithm/);
  });

  it('refuses an HS512 token by default (HS256 only)', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, algorithm: 'HS512', now: () => T0 }).sign(ALICE);
    expect(refusal(verifierAt(T0), token).message).toMatch(/invalid algorithm/);
  });

  it('refuses a tampered payload (role changed to admin, signature kept)', () => {
    const [header, payload, signature] = signAt(T0).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(claims.role).toBe('user');
    const tampered = `${header}.${base64url({ ...claims, role: 'admin' })}.${signature}`;
    expect(refusal(verifierAt(T0), tampered).message).toMatch(/invalid signature/);
  });

  it('refuses a wrong issuer', () => {
    const token = createTokenSigner({ key: KEY, ttlMs: 60_000, issuer: 'evil-auth', now: () => T0 }).sign(ALICE);
    expect(refusal(verifierAt(T0), token).message).toMatch(/issuer/);
  });

  it('refuses a token with no issuer', () => {
    const { iss: _iss, ...claims } = VALID_CLAIMS;
    expect(refusal(verifierAt(T0), rawToken(claims)).message).toMatch(/issuer/);
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
    expect(refusal(verifierAt(T0), rawToken(claims)).message).toMatch(/id claim/);
    expect(refusal(verifierAt(T0), rawToken({ ...claims, id: '' })).message).toMatch(/id claim/);
    expect(refusal(verifierAt(T0), rawToken({ ...claims, id: 17 })).message).toMatch(/id claim/);
  });

  it('refuses a token without an email', () => {
    const { email: _email, ...claims } = VALID_CLAIMS;
    expect(refusal(verifierAt(T0), rawToken(claims)).message).toMatch(/email claim/);
  });

  it('refuses an unknown role', () => {
    expect(refusal(verifierAt(T0), rawToken({ ...VALID_CLAIMS, role: 'root' })).message).toMatch(/role claim/);
    const { role: _role, ...claims } = VALID_CLAIMS;
    expect(refusal(verifierAt(T0), rawToken(claims)).message).toMatch(/role claim/);
  });

  it('refuses a token without exp', () => {
    const { exp: _exp, ...claims } = VALID_CLAIMS;
    const token = rawToken(claims);
    expect((jwt.decode(token) as jwt.JwtPayload).exp).toBeUndefined();
    expect(refusal(verifierAt(T0), token).message).toMatch(/exp claim/);
  });

  it('refuses a token without iat', () => {
    const { iat: _iat, ...claims } = VALID_CLAIMS;
    const token = rawToken(claims, { noTimestamp: true });
    expect((jwt.decode(token) as jwt.JwtPayload).iat).toBeUndefined();
    expect(refusal(verifierAt(T0), token).message).toMatch(/iat claim/);
  });

  it('keeps the token out of the error message', () => {
    const token = signAt(T0 - 3_600_000);
    const err = refusal(verifierAt(T0), token);
    expect(err.message).toMatch(/^invalid token: /);
    expect(err.message).not.toContain(token);
    expect(err.message).not.toContain(token.split('.')[2]);
  });
});

describe('bounding the lifetime of a token', () => {
  it('accepts a token whose lifetime is exactly the service\'s ACCESS_TOKEN_TTL', () => {
    expect(verifierAt(T0).verify(signAt(T0, ALICE, 15 * 60_000)).id).toBe(ALICE.id);
  });

  it('refuses a token that lives one second longer than this service\'s ACCESS_TOKEN_TTL', () => {
    const err = refusal(verifierAt(T0), signAt(T0, ALICE, 15 * 60_000 + 1_000));
    expect(err.reason).toBe('lifetime');
    expect(err.message).toMatch(/901s exceeds this service's ACCESS_TOKEN_TTL of 900s/);
  });

  it('refuses auth\'s 15-minute token in a service configured for 3 seconds, for the whole of its life', () => {
    const token = signAt(T0, ALICE, 15 * 60_000);
    const short = (nowMs: number) => createTokenVerifier({ key: KEY, maxLifetimeMs: 3_000, now: () => nowMs });
    for (const nowMs of [T0, T0 + 4_000, T0 + 26_000, T0 + 899_000]) expect(refusal(short(nowMs), token).reason).toBe('lifetime');
  });

  it('rounds a lifetime that is not whole seconds down, so no token outlives its entry', () => {
    const verifier = createTokenVerifier({ key: KEY, maxLifetimeMs: 1_500, clockToleranceMs: 0, now: () => T0 });
    expect(refusal(verifier, signAt(T0, ALICE, 2_000)).reason).toBe('lifetime');
    expect(verifier.verify(signAt(T0, ALICE, 1_000)).id).toBe(ALICE.id);
  });

  it.each([
    ['an exp a hundred years ahead', { ...VALID_CLAIMS, exp: T0_SECONDS + 100 * 365 * 86_400 }],
    ['iat 0', { ...VALID_CLAIMS, iat: 0 }],
    ['a negative iat', { ...VALID_CLAIMS, iat: -1_000_000 }],
  ])('refuses a correctly signed token with %s', (_name, claims) => {
    expect(refusal(verifierAt(T0), rawToken(claims)).reason).toBe('lifetime');
  });

  it('refuses to build without a lifetime bound, or with one under a second (TypeError)', () => {
    expect(() => createTokenVerifier({ key: KEY } as never)).toThrow(/maxLifetimeMs/);
    expect(() => createTokenVerifier({ key: KEY, maxLifetimeMs: 999 })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: KEY, maxLifetimeMs: Number.NaN })).toThrow(TypeError);
  });
});

describe('refusing a crit header', () => {
  it.each([
    ['a crit list naming an extension', ['exp-ext']],
    ['an empty crit list', []],
    ['a crit that is not a list', 'b64'],
  ])('refuses a correctly signed token with %s (RFC 7515 4.1.11)', (_name, crit) => {
    const token = rawToken(VALID_CLAIMS, { header: { alg: 'HS256', typ: 'JWT', crit } as jwt.JwtHeader });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))).toHaveProperty('crit');
    expect(refusal(verifierAt(T0), token).reason).toBe('crit');
  });
});

describe('the user id', () => {
  it.each([
    ['upper case', ALICE.id.toUpperCase()],
    ['mixed case', `${ALICE.id.slice(0, 9).toUpperCase()}${ALICE.id.slice(9)}`],
  ])('gives an id in %s its canonical lower-case form', (_name, id) => {
    expect(verifierAt(T0).verify(rawToken({ ...VALID_CLAIMS, id })).id).toBe(ALICE.id);
  });

  it.each([
    ['not a UUID', 'user-1'],
    ['a UUID with spaces', ` ${ALICE.id} `],
    ['a UUID in braces', `{${ALICE.id}}`],
    ['a UUID without dashes', ALICE.id.replaceAll('-', '')],
    ['a number', 17],
  ])('refuses an id that is %s', (_name, id) => {
    expect(refusal(verifierAt(T0), rawToken({ ...VALID_CLAIMS, id })).reason).toBe('claims');
  });
});

describe('reasons', () => {
  it.each<[string, () => string, TokenRefusal]>([
    ['expired', () => signAt(T0 - 3_600_000), 'expired'],
    ['not yet valid', () => rawToken({ ...VALID_CLAIMS, nbf: T0_SECONDS + 120 }), 'not_yet_valid'],
    ['another key', () => createTokenSigner({ key: OTHER_KEY, ttlMs: 60_000, now: () => T0 }).sign(ALICE), 'signature'],
    ['another algorithm', () => createTokenSigner({ key: KEY, ttlMs: 60_000, algorithm: 'HS512', now: () => T0 }).sign(ALICE), 'algorithm'],
    ['another issuer', () => createTokenSigner({ key: KEY, ttlMs: 60_000, issuer: 'evil-auth', now: () => T0 }).sign(ALICE), 'issuer'],
    ['garbage', () => 'abc', 'malformed'],
    ['from the future', () => signAt(T0 + 31_000), 'issued_in_future'],
  ])('names the reason for %s', (_name, token, reason) => {
    expect(refusal(verifierAt(T0), token()).reason).toBe(reason);
  });
});

describe('createTokenVerifier options', () => {
  it('refuses a key that is not a secret KeyObject with a TypeError', () => {
    expect(() => createTokenVerifier({ key: SECRET as never, maxLifetimeMs: 900_000 })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: Buffer.from(SECRET) as never, maxLifetimeMs: 900_000 })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: undefined as never, maxLifetimeMs: 900_000 })).toThrow(TypeError);
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(() => createTokenVerifier({ key: publicKey, maxLifetimeMs: 900_000 })).toThrow(TypeError);
  });

  it('refuses an empty algorithm list with a TypeError', () => {
    expect(() => createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, algorithms: [] })).toThrow(TypeError);
  });

  it('refuses a negative or non-finite clock tolerance with a TypeError', () => {
    expect(() => createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, clockToleranceMs: -1 })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, clockToleranceMs: Number.NaN })).toThrow(TypeError);
    expect(() => createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, clockToleranceMs: Number.POSITIVE_INFINITY })).toThrow(TypeError);
  });
});
