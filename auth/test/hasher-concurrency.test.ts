import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { ServiceUnavailableError } from '@ticketing/common';
import { waitFor } from '@ticketing/testing';
import { createPasswordHasher, OWASP_SCRYPT, type DeriveKey, type PasswordHasher } from '../src/password-hasher.js';
import { authAppWith, startAuth, type TestAuth } from './start-auth.js';

const TOO_MANY = { errors: [{ message: 'Too many sign-ins at once; try again shortly' }] };

/**
 * A key derivation standing in for scrypt: while `hold` is set each derivation waits until the test
 * releases it; it counts how many run at once, and the most that ever did.
 */
function heldDerive() {
  const state = {
    hold: true,
    running: 0,
    peak: 0,
    held: [] as (() => void)[],
    derive: (async (password, salt, _params, keyBytes) => {
      state.running += 1;
      state.peak = Math.max(state.peak, state.running);
      try {
        if (state.hold) await new Promise<void>((resolve) => state.held.push(resolve));
        else await Promise.resolve();
        return createHash('sha256').update(password).update(salt).digest().subarray(0, keyBytes);
      } finally {
        state.running -= 1;
      }
    }) as DeriveKey,
    /** Stops holding, and lets every held derivation go. */
    releaseAll() {
      state.hold = false;
      for (const release of state.held.splice(0)) release();
    },
  };
  return state;
}

/** How a promise has settled by the next turn of the event loop: a call refused "at once" has. */
async function settledAtOnce<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  const nextTurn = new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')));
  return Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), nextTurn]);
}

function expectRefusedAtOnce(outcome: Awaited<ReturnType<typeof settledAtOnce>>): void {
  expect(outcome).not.toBe('pending');
  expect(outcome).toHaveProperty('error');
  const { error } = outcome as { error: unknown };
  expect(error).toBeInstanceOf(ServiceUnavailableError);
  expect(error).toMatchObject({ status: 503, message: 'Too many sign-ins at once; try again shortly' });
}

/** A well-formed stored hash, to give `verify` something it will derive for. */
const storedHash = () => ['scrypt', 1024, 8, 1, randomBytes(16).toString('base64'), randomBytes(32).toString('base64')].join('$');

describe('createPasswordHasher bounds concurrent derivations', () => {
  it('runs at most maxConcurrent at once, queues maxQueued more, and refuses hash, verify and verifyNothing beyond that at once', async () => {
    const kdf = heldDerive();
    const hasher = createPasswordHasher(OWASP_SCRYPT, { maxConcurrent: 2, maxQueued: 3, derive: kdf.derive });
    const accepted = Array.from({ length: 5 }, (_, i) => hasher.hash(`password-${i}`));
    await waitFor(() => kdf.held.length === 2, { what: 'two derivations to start' });
    expect(await settledAtOnce(accepted[4]!)).toBe('pending');

    expectRefusedAtOnce(await settledAtOnce(hasher.hash('one too many')));
    expectRefusedAtOnce(await settledAtOnce(hasher.verify('one too many', storedHash())));
    expectRefusedAtOnce(await settledAtOnce(hasher.verifyNothing('one too many')));
    expect(kdf.running).toBe(2);

    kdf.releaseAll();
    const hashes = await Promise.all(accepted);
    expect(kdf.peak).toBe(2);
    // The queued calls ran, and each hash verifies; a decoy refused earlier is made afresh.
    for (const [i, stored] of hashes.entries()) expect(await hasher.verify(`password-${i}`, stored)).toBe(true);
    expect(await hasher.verify('wrong', hashes[0]!)).toBe(false);
    expect(await hasher.verifyNothing('anything')).toBe(false);
  });

  it('by default runs 2 at once and queues 32', async () => {
    const kdf = heldDerive();
    const hasher = createPasswordHasher(OWASP_SCRYPT, { derive: kdf.derive });
    const accepted = Array.from({ length: 34 }, (_, i) => hasher.hash(`password-${i}`));
    await waitFor(() => kdf.held.length === 2, { what: 'two derivations to start' });
    expectRefusedAtOnce(await settledAtOnce(hasher.hash('the 35th')));
    kdf.releaseAll();
    expect(await Promise.all(accepted)).toHaveLength(34);
    expect(kdf.peak).toBe(2);
  });

  it('hashes and verifies with real scrypt under the bound', async () => {
    const hasher = createPasswordHasher({ N: 2 ** 10, r: 8, p: 1 }, { maxConcurrent: 1, maxQueued: 8 });
    const passwords = ['one-password', 'two-password', 'three-password', 'four-password'];
    const hashes = await Promise.all(passwords.map((password) => hasher.hash(password)));
    const checks = await Promise.all(hashes.map((stored, i) => hasher.verify(passwords[i]!, stored)));
    expect(checks).toEqual([true, true, true, true]);
    expect(await hasher.verify('wrong-password', hashes[0]!)).toBe(false);
  });

  it('refuses limits that are not whole numbers, a concurrency under 1 or a negative queue, at once', () => {
    for (const limits of [{ maxConcurrent: 0 }, { maxConcurrent: 1.5 }, { maxConcurrent: Number.NaN }, { maxQueued: -1 }, { maxQueued: Infinity }]) {
      expect(() => createPasswordHasher(OWASP_SCRYPT, limits)).toThrow(TypeError);
    }
    expect(() => createPasswordHasher(OWASP_SCRYPT, { maxConcurrent: 1, maxQueued: 0 })).not.toThrow();
  });
});

describe('the routes answer a full hashing queue with 503', () => {
  let auth: TestAuth;
  beforeAll(async () => {
    auth = await startAuth();
  });
  afterAll(() => auth.close());

  const appWith = (hasher: PasswordHasher) => authAppWith(auth, { hasher });

  it('refuses sign-ins and signups past the bound with the error body, and serves the one running', async () => {
    const kdf = heldDerive();
    kdf.hold = false;
    const app = appWith(createPasswordHasher(OWASP_SCRYPT, { maxConcurrent: 1, maxQueued: 0, derive: kdf.derive }));
    await request(app).post('/api/users/signup').send({ email: 'queue@example.com', password: 'password1' }).expect(201);

    kdf.hold = true;
    const running = request(app).post('/api/users/signin').send({ email: 'queue@example.com', password: 'password1' }).then((res) => res);
    await waitFor(() => kdf.held.length === 1, { what: 'the first sign-in to start hashing' });
    for (const [path, body] of [
      ['/api/users/signin', { email: 'queue@example.com', password: 'password1' }],
      ['/api/users/signin', { email: 'nobody@example.com', password: 'password1' }],
      ['/api/users/signup', { email: 'queue-2@example.com', password: 'password1' }],
    ] as const) {
      const res = await request(app).post(path).send(body);
      expect(res.status, path).toBe(503);
      expect(res.body).toEqual(TOO_MANY);
      expect(res.headers['set-cookie']).toBeUndefined();
    }

    kdf.releaseAll();
    const first = await running;
    expect(first.status).toBe(200);
    expect(kdf.peak).toBe(1);
    await request(app).post('/api/users/signin').send({ email: 'queue@example.com', password: 'password1' }).expect(200);
  });
});
