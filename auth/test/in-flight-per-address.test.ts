import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { waitFor } from '@ticketing/testing';
import type { AuthConfig } from '../src/config.js';
import { createPasswordHasher, OWASP_SCRYPT, type DeriveKey } from '../src/password-hasher.js';
import { ADMIN_EMAIL, authAppWith, countingHasher, startAuth, type TestAuth } from './start-auth.js';

const PASSWORD = 'correct-horse';
const TOO_MANY = { errors: [{ message: 'Too many attempts, try again later' }] };

let auth: TestAuth;
beforeAll(async () => {
  auth = await startAuth();
});
afterAll(() => auth.close());

/** A key derivation standing in for scrypt that, while `hold` is set, waits until the test releases it. */
function heldDerive() {
  const state = {
    hold: false,
    held: [] as (() => void)[],
    derive: (async (password, salt, _params, keyBytes) => {
      if (state.hold) await new Promise<void>((resolve) => state.held.push(resolve));
      return createHash('sha256').update(password).update(salt).digest().subarray(0, keyBytes);
    }) as DeriveKey,
    releaseAll() {
      state.hold = false;
      for (const release of state.held.splice(0)) release();
    },
  };
  return state;
}

/**
 * A listening auth app with the production hasher's bounds (2 running, 32 queued) around a held
 * derivation. In production mode behind one trusted proxy hop (TRUST_PROXY=1), which names the
 * client in X-Forwarded-For.
 */
async function floodTarget(settings: Partial<AuthConfig> = {}) {
  const kdf = heldDerive();
  const hasher = countingHasher(createPasswordHasher(OWASP_SCRYPT, { derive: kdf.derive }));
  const app = authAppWith(auth, {
    settings: { production: true, trustProxy: 1, ...settings },
    hasher,
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const post = (address: string, path: string, body: object) =>
    request(server).post(path).set('X-Forwarded-Proto', 'https').set('X-Forwarded-For', address).send(body);
  // supertest sends a request only once it is awaited: this one is sent now.
  const sent = (test: request.Test) => test.then((res) => res);
  const connections = () => new Promise<number>((resolve, reject) => server.getConnections((err, count) => (err ? reject(err) : resolve(count))));
  return {
    kdf,
    /** Calls made to the hasher: a call waiting in its queue counts. */
    hasherCalls: () => hasher.calls,
    server,
    connections,
    sent,
    signup: (address: string, email: string) => post(address, '/api/users/signup', { email, password: PASSWORD }),
    signin: (address: string, email: string, password = PASSWORD) => post(address, '/api/users/signin', { email, password }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('requests in flight per client address', () => {
  it('keeps sign-in open to everyone while two addresses keep many successful sign-ins in flight', async () => {
    const target = await floodTarget();
    const attackers = ['203.0.113.50', '203.0.113.51'];
    const accounts = ['flood-a@example.com', 'flood-b@example.com'];
    await target.signup('192.0.2.50', accounts[0]!).expect(201);
    await target.signup('192.0.2.51', accounts[1]!).expect(201);
    await target.signup('192.0.2.52', ADMIN_EMAIL).expect(201);

    // Each (address, account) 9 sign-ins at once: under every attempt limit, 36 in all, more than
    // the hasher's 2 running and 32 queued.
    target.kdf.hold = true;
    const answered: number[] = [];
    const flood: Promise<number>[] = [];
    for (const address of attackers) {
      for (const email of accounts) {
        for (let i = 0; i < 9; i += 1) {
          flood.push(target.signin(address, email).then((res) => {
            answered.push(res.status);
            return res.status;
          }));
        }
      }
    }
    // Two per address are taken in; the rest are refused at once, while the derivations are held.
    await waitFor(() => answered.length === 32, { what: 'the sign-ins past two per address to be refused' });
    expect(answered).toEqual(Array(32).fill(429));
    expect(target.kdf.held).toHaveLength(2);
    expect(target.hasherCalls()).toBe(3 + 4);

    const admin = target.sent(target.signin('198.51.100.60', ADMIN_EMAIL));
    const newcomer = target.sent(target.signup('198.51.100.61', 'newcomer@example.com'));
    const before = target.hasherCalls();
    await waitFor(() => target.hasherCalls() === before + 2, { what: 'the newcomers to wait for the hasher' });
    target.kdf.releaseAll();
    expect((await admin).status).toBe(200);
    expect((await newcomer).status).toBe(201);
    expect((await Promise.all(flood)).filter((status) => status === 200)).toHaveLength(4);
    await target.close();
  });

  it('answers 429 at once without counting it as a failed sign-in, and gives the slots back when the sign-ins end', async () => {
    const target = await floodTarget({ authAccountRateLimitPerMinute: 3, authAccountGlobalRateLimitPerMinute: 10 });
    const address = '203.0.113.70';
    await target.signup('192.0.2.70', 'slots@example.com').expect(201);
    target.kdf.hold = true;
    const running = [0, 1].map(() => target.sent(target.signin(address, 'slots@example.com', 'wrong-guess')));
    await waitFor(() => target.kdf.held.length === 2, { what: 'two sign-ins to start hashing' });
    for (let i = 0; i < 5; i += 1) {
      const refused = await target.signin(address, 'slots@example.com');
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual(TOO_MANY);
    }
    // Another address is not affected.
    const other = target.sent(target.signin('203.0.113.71', 'slots@example.com'));
    target.kdf.releaseAll();
    expect((await Promise.all(running)).map((res) => res.status)).toEqual([400, 400]);
    expect((await other).status).toBe(200);
    // Two failures of the three allowed per account from this address: the five refusals took none.
    await target.signin(address, 'slots@example.com', 'wrong-guess').expect(400);
    await target.signin(address, 'slots@example.com').expect(429);
    await target.signin('203.0.113.72', 'slots@example.com').expect(200);
    await target.close();
  });

  it('keeps a slot taken while its hash runs, even when the client hangs up first', async () => {
    const target = await floodTarget();
    const address = '203.0.113.80';
    await target.signup('192.0.2.80', 'hangup@example.com').expect(201);
    target.kdf.hold = true;
    const { port } = target.server.address() as AddressInfo;
    const body = JSON.stringify({ email: 'hangup@example.com', password: PASSWORD });
    const abandoned = [0, 1].map(() => {
      const req = http.request({
        host: '127.0.0.1', port, method: 'POST', path: '/api/users/signin',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': address },
      });
      req.on('error', () => undefined);
      req.end(body);
      return req;
    });
    await waitFor(() => target.kdf.held.length === 2, { what: 'two sign-ins to start hashing' });
    for (const req of abandoned) req.destroy();
    await waitFor(async () => (await target.connections()) === 0, { what: 'the server to see the clients hang up' });
    expect((await target.signin(address, 'hangup@example.com')).status).toBe(429);

    target.kdf.releaseAll();
    await waitFor(async () => (await target.signin(address, 'hangup@example.com')).status === 200, { what: 'the slots to be given back' });
    await target.close();
  });
});
