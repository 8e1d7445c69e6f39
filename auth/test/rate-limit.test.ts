import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import { ConfigError, ServiceUnavailableError } from '@ticketing/common';
import { silentLogger, TEST_JWT_KEY, sessionCookieOf } from '@ticketing/testing';
import { loadConfig, type AuthConfig } from '../src/config.js';
import { createPasswordHasher, type PasswordHasher } from '../src/password-hasher.js';
import { rateLimits } from '../src/routes/rate-limits.js';
import { authAppWith, countingHasher, startAuth, type TestAuth } from './start-auth.js';

const TOO_MANY = { errors: [{ message: 'Too many attempts, try again later' }] };
const PASSWORD = 'correct-horse';

let auth: TestAuth;
beforeAll(async () => {
  auth = await startAuth();
});
afterAll(() => auth.close());

/**
 * An auth app with its own limits (so its own counters) on the shared database and NATS. In
 * production mode behind one trusted proxy hop (TRUST_PROXY=1), which names the client in
 * X-Forwarded-For, so a test can speak from several addresses.
 */
function appWith(settings: Partial<AuthConfig>, hasher: PasswordHasher = countingHasher()): Express {
  return authAppWith(auth, { settings: { production: true, trustProxy: 1, ...settings }, hasher });
}

function client(app: Express, address: string) {
  const post = (path: string, body: unknown) =>
    request(app).post(path).set('X-Forwarded-Proto', 'https').set('X-Forwarded-For', address).send(body as object);
  return {
    signup: (email: string, password = PASSWORD) => post('/api/users/signup', { email, password }),
    signin: (email: string, password = PASSWORD) => post('/api/users/signin', { email, password }),
    signinBody: (body: unknown) => post('/api/users/signin', body),
  };
}

describe('sign-in limits', () => {
  it('never limits successful sign-ins: three times the address limit from one address, over two accounts', async () => {
    const app = appWith({ authRateLimitPerMinute: 3, authAccountRateLimitPerMinute: 2 });
    const office = client(app, '192.0.2.10');
    await office.signup('nat-a@example.com').expect(201);
    await office.signup('nat-b@example.com').expect(201);
    for (let i = 0; i < 9; i += 1) {
      const res = await office.signin(i % 2 === 0 ? 'nat-a@example.com' : 'nat-b@example.com');
      expect(res.status).toBe(200);
    }
  });

  it('lets an account sign in from another address after ten failures for it from one address (one address cannot lock it)', async () => {
    // The defaults: 10 failures per account from one address, 100 from all addresses.
    const app = appWith({ authRateLimitPerMinute: 20, authAccountRateLimitPerMinute: 10 });
    const attacker = client(app, '203.0.113.40');
    await client(app, '203.0.113.41').signup('admin-victim@example.com').expect(201);
    for (let i = 0; i < 10; i += 1) expect((await attacker.signin('admin-victim@example.com', 'wrong-guess')).status).toBe(400);
    expect((await attacker.signin('admin-victim@example.com')).status).toBe(429);

    const owner = await client(app, '198.51.100.41').signin('admin-victim@example.com');
    expect(owner.status).toBe(200);
    expect(sessionCookieOf(owner)).toMatch(/^session=.+/);
  });

  it('answers 429 from an address past AUTH_ACCOUNT_RATE_LIMIT failures for an account, without a hash, while that address signs in to another account', async () => {
    const hasher = countingHasher();
    const app = appWith({ authRateLimitPerMinute: 20, authAccountRateLimitPerMinute: 3 }, hasher);
    const guesser = client(app, '203.0.113.9');
    await guesser.signup('victim@example.com').expect(201);
    await guesser.signup('neighbour@example.com').expect(201);
    for (let i = 0; i < 3; i += 1) {
      const res = await guesser.signin('victim@example.com', 'wrong-guess');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [{ message: 'Invalid credentials' }] });
    }
    const hashesBefore = hasher.calls;
    for (const email of ['victim@example.com', ' Victim@EXAMPLE.com ']) {
      const res = await guesser.signin(email);
      expect(res.status).toBe(429);
      expect(res.body).toEqual(TOO_MANY);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(hasher.calls).toBe(hashesBefore);

    const neighbour = await guesser.signin('neighbour@example.com');
    expect(neighbour.status).toBe(200);
    expect(sessionCookieOf(neighbour)).toMatch(/^session=.+/);
  });

  it('answers 429 to an account, from a fresh address too, once failures spread over many addresses pass AUTH_ACCOUNT_GLOBAL_RATE_LIMIT', async () => {
    const hasher = countingHasher();
    // 5 per address, the default 100 from all addresses: 20 addresses use up the account's minute.
    const app = appWith({ authRateLimitPerMinute: 20, authAccountRateLimitPerMinute: 5 }, hasher);
    await client(app, '192.0.2.100').signup('spread@example.com').expect(201);
    for (let host = 1; host <= 20; host += 1) {
      const guesser = client(app, `198.18.0.${host}`);
      for (let i = 0; i < 5; i += 1) expect((await guesser.signin('spread@example.com', 'wrong-guess')).status).toBe(400);
    }
    const hashesBefore = hasher.calls;
    const fresh = client(app, '198.18.1.1');
    for (const password of ['wrong-guess', PASSWORD]) {
      const res = await fresh.signin('spread@example.com', password);
      expect(res.status).toBe(429);
      expect(res.body).toEqual(TOO_MANY);
    }
    expect(hasher.calls).toBe(hashesBefore);
    // Another account, from the same fresh address, is not affected.
    expect((await fresh.signin('spread-other@example.com', 'wrong-guess')).status).toBe(400);
  });

  it('does not count a 503 (auth too busy to hash) as a failed sign-in', async () => {
    const inner = createPasswordHasher({ N: 2 ** 10, r: 8, p: 1 });
    const busy = { on: false };
    const hasher: PasswordHasher = {
      hash: (password) => inner.hash(password),
      verify: (password, stored) => (busy.on ? Promise.reject(new ServiceUnavailableError()) : inner.verify(password, stored)),
      verifyNothing: (password) => inner.verifyNothing(password),
    };
    const app = appWith({ authRateLimitPerMinute: 2, authAccountRateLimitPerMinute: 2, authAccountGlobalRateLimitPerMinute: 3 }, hasher);
    const user = client(app, '203.0.113.77');
    await user.signup('busy@example.com').expect(201);
    busy.on = true;
    for (let i = 0; i < 4; i++) await user.signin('busy@example.com').expect(503);
    busy.on = false;
    await user.signin('busy@example.com').expect(200);
  });

  it('takes AUTH_ACCOUNT_GLOBAL_RATE_LIMIT from the config', async () => {
    const app = appWith({ authRateLimitPerMinute: 50, authAccountRateLimitPerMinute: 2, authAccountGlobalRateLimitPerMinute: 3 });
    await client(app, '198.51.100.1').signup('global-config@example.com').expect(201);
    await client(app, '198.51.100.2').signin('global-config@example.com', 'wrong-password').expect(400);
    await client(app, '198.51.100.3').signin('global-config@example.com', 'wrong-password').expect(400);
    await client(app, '198.51.100.4').signin('global-config@example.com', 'wrong-password').expect(400);
    await client(app, '198.51.100.5').signin('global-config@example.com').expect(429);
  });

  it('does not let one address feed AUTH_ACCOUNT_GLOBAL_RATE_LIMIT past its own AUTH_ACCOUNT_RATE_LIMIT', async () => {
    const app = appWith({ authRateLimitPerMinute: 1000, authAccountRateLimitPerMinute: 5 });
    await client(app, '192.0.2.101').signup('hammered@example.com').expect(201);
    const hammer = client(app, '198.18.2.1');
    for (let i = 0; i < 5; i += 1) expect((await hammer.signin('hammered@example.com', 'wrong-guess')).status).toBe(400);
    // Far past the global limit of 100 in attempts, but refused before they reach its counter.
    for (let i = 0; i < 150; i += 1) expect((await hammer.signin('hammered@example.com', 'wrong-guess')).status).toBe(429);
    expect((await client(app, '198.18.3.1').signin('hammered@example.com')).status).toBe(200);

    // The hammering address added exactly its 5: 19 more addresses at 5 each reach 100, and then it is closed.
    for (let host = 1; host <= 19; host += 1) {
      const guesser = client(app, `198.18.4.${host}`);
      for (let i = 0; i < 5; i += 1) expect((await guesser.signin('hammered@example.com', 'wrong-guess')).status).toBe(400);
    }
    expect((await client(app, '198.18.5.1').signin('hammered@example.com')).status).toBe(429);
  });

  it('answers 429 to an address past AUTH_RATE_LIMIT failures, whichever accounts they were for, and not to another address', async () => {
    const app = appWith({ authRateLimitPerMinute: 3, authAccountRateLimitPerMinute: 50 });
    const guesser = client(app, '198.51.100.7');
    const other = client(app, '198.51.100.8');
    await other.signup('sprayed@example.com').expect(201);
    for (const email of ['spray-1@example.com', 'spray-2@example.com', 'sprayed@example.com']) {
      expect((await guesser.signin(email, 'wrong-guess')).status).toBe(400);
    }
    const limited = await guesser.signin('sprayed@example.com');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual(TOO_MANY);
    expect((await other.signin('sprayed@example.com')).status).toBe(200);
  });

  it('counts IPv6 clients per /56, so an attacker cannot rotate through their own addresses', async () => {
    const app = appWith({ authRateLimitPerMinute: 2, authAccountRateLimitPerMinute: 50 });
    const sameNetwork = ['2001:db8:0:100::1', '2001:db8:0:1ff:abcd::2'];
    expect((await client(app, sameNetwork[0]!).signin('v6-a@example.com', 'wrong-guess')).status).toBe(400);
    expect((await client(app, sameNetwork[1]!).signin('v6-b@example.com', 'wrong-guess')).status).toBe(400);
    expect((await client(app, sameNetwork[0]!).signin('v6-c@example.com', 'wrong-guess')).status).toBe(429);
    expect((await client(app, '2001:db8:0:200::1').signin('v6-d@example.com', 'wrong-guess')).status).toBe(400);
  });

  it('counts an account\'s failures per /56 of IPv6 too, so an attacker cannot rotate through their own addresses to guess one password', async () => {
    const app = appWith({ authRateLimitPerMinute: 20, authAccountRateLimitPerMinute: 2 });
    const sameNetwork = ['2001:db8:1:100::1', '2001:db8:1:1ff:abcd::2'];
    expect((await client(app, sameNetwork[0]!).signin('v6-victim@example.com', 'wrong-guess')).status).toBe(400);
    expect((await client(app, sameNetwork[1]!).signin('v6-victim@example.com', 'wrong-guess')).status).toBe(400);
    expect((await client(app, sameNetwork[1]!).signin('v6-victim@example.com', 'wrong-guess')).status).toBe(429);
    expect((await client(app, '2001:db8:1:200::1').signin('v6-victim@example.com', 'wrong-guess')).status).toBe(400);
  });

  it('still answers 400 to malformed bodies, also for an account that is limited', async () => {
    const app = appWith({ authRateLimitPerMinute: 20, authAccountRateLimitPerMinute: 1 });
    const someone = client(app, '192.0.2.20');
    expect((await someone.signin('locked@example.com', 'wrong-guess')).status).toBe(400);
    expect((await someone.signin('locked@example.com')).status).toBe(429);
    for (const body of [{}, { email: 'locked@example.com' }, { email: 42, password: PASSWORD }, { email: 'not-an-email', password: PASSWORD }]) {
      const res = await someone.signinBody(body);
      expect(res.status).toBe(400);
      expect(res.body.errors.length).toBeGreaterThan(0);
      for (const error of res.body.errors as { field?: string }[]) expect(error.field).toBeDefined();
    }
    const malformedJson = await request(app).post('/api/users/signin').set('X-Forwarded-Proto', 'https').set('X-Forwarded-For', '192.0.2.20')
      .set('Content-Type', 'application/json').send('{"email":');
    expect(malformedJson.status).toBe(400);
  });
});

describe('the client address the limits count', () => {
  /** A listening app whose connections count as the service's own TLS, for production with no proxy trusted. */
  async function ownTls(app: Express) {
    const server = http.createServer(app);
    server.on('connection', (socket) => Object.assign(socket, { encrypted: true }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  it('ignores X-Forwarded-For in production when no proxy is trusted (TRUST_PROXY unset): the 21st failure gets 429', async () => {
    const server = await ownTls(appWith({ authRateLimitPerMinute: 20, authAccountRateLimitPerMinute: 10, trustProxy: 0 }));
    try {
      for (let i = 1; i <= 21; i += 1) {
        const res = await request(server).post('/api/users/signin').set('X-Forwarded-For', `198.18.9.${i}`)
          .send({ email: `spoofer-${i}@example.com`, password: 'wrong-guess' });
        expect(res.status, `attempt ${i}`).toBe(i <= 20 ? 400 : 429);
      }
    } finally {
      server.close();
    }
  });

  it('never counts a trusted hop\'s X-Forwarded-For that is not an IP address as an address: it counts the connection\'s', async () => {
    const app = appWith({ authRateLimitPerMinute: 20, authAccountRateLimitPerMinute: 10 });
    const statuses: number[] = [];
    for (let i = 1; i <= 21; i += 1) {
      const fake = `${'x'.repeat(4000)}-${i}`;
      statuses.push((await client(app, fake).signin(`fake-address-${i}@example.com`, 'wrong-guess')).status);
    }
    expect(statuses).toEqual([...Array(20).fill(400), 429]);
    // The connection's own address (127.0.0.1 here) is what was counted, whatever the header said.
    expect((await client(app, 'not-an-address').signup('fake-address@example.com')).status).toBe(201);
    expect((await client(app, '192.0.2.99').signin('fake-address@example.com', 'wrong-guess')).status).toBe(400);
  });
});

describe('signup limit', () => {
  it('counts every signup per address on a counter of its own, apart from sign-in failures', async () => {
    const app = appWith({ authRateLimitPerMinute: 2, authAccountRateLimitPerMinute: 50 });
    const host = client(app, '192.0.2.30');
    // A sign-in failure takes nothing from the signup budget...
    expect((await host.signin('nobody@example.com', 'wrong-guess')).status).toBe(400);
    // ...and successful signups use it up: a bulk account creator is what this limit is for.
    expect((await host.signup('bulk-1@example.com')).status).toBe(201);
    expect((await host.signup('bulk-2@example.com')).status).toBe(201);
    const limited = await host.signup('bulk-3@example.com');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual(TOO_MANY);
    expect((await client(app, '192.0.2.31').signup('bulk-3@example.com')).status).toBe(201);
    // The signups took nothing from the sign-in budget (one failure of two): this address still signs in.
    expect((await host.signin('bulk-1@example.com')).status).toBe(200);
    expect((await host.signin('bulk-2@example.com')).status).toBe(200);
  });

  it('does not count a signup answered 503 (auth too busy to hash) against the signup limit', async () => {
    const inner = createPasswordHasher({ N: 2 ** 10, r: 8, p: 1 });
    const busy = { on: true };
    const hasher: PasswordHasher = {
      hash: (password) => (busy.on ? Promise.reject(new ServiceUnavailableError()) : inner.hash(password)),
      verify: (password, stored) => inner.verify(password, stored),
      verifyNothing: (password) => inner.verifyNothing(password),
    };
    const app = appWith({ authRateLimitPerMinute: 2, authAccountRateLimitPerMinute: 1, authAccountGlobalRateLimitPerMinute: 2 }, hasher);
    const newcomer = client(app, '192.0.2.40');
    for (let i = 0; i < 4; i += 1) expect((await newcomer.signup('busy-newcomer@example.com')).status).toBe(503);
    busy.on = false;
    expect((await newcomer.signup('busy-newcomer@example.com')).status).toBe(201);
    expect((await newcomer.signup('busy-newcomer-2@example.com')).status).toBe(201);
    // Successful (and refused) signups still count: the third is past the limit of 2.
    expect((await newcomer.signup('busy-newcomer-3@example.com')).status).toBe(429);
  });
});

describe('settings', () => {
  const base = { JWT_KEY: TEST_JWT_KEY };

  it('defaults to 20 per address, 10 per account from one address and 100 per account from all addresses a minute', () => {
    const config = loadConfig(base);
    expect(config.authRateLimitPerMinute).toBe(20);
    expect(config.authAccountRateLimitPerMinute).toBe(10);
    expect(config.authAccountGlobalRateLimitPerMinute).toBe(100);
    expect(loadConfig({ ...base, AUTH_ACCOUNT_RATE_LIMIT: '5' }).authAccountRateLimitPerMinute).toBe(5);
    expect(loadConfig({ ...base, AUTH_ACCOUNT_GLOBAL_RATE_LIMIT: '500' }).authAccountGlobalRateLimitPerMinute).toBe(500);
  });

  it.each(['AUTH_ACCOUNT_RATE_LIMIT', 'AUTH_ACCOUNT_GLOBAL_RATE_LIMIT'])('refuses %s values that are not positive integers, naming the variable', (name) => {
    for (const value of ['0', '-1', 'ten', '2.5']) {
      expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`^${name} `));
    }
  });

  it('allows 2 signups and sign-ins in flight per address by default, AUTH_IN_FLIGHT_PER_ADDRESS from 1 to 32', () => {
    expect(loadConfig(base).authInFlightPerAddress).toBe(2);
    expect(loadConfig({ ...base, AUTH_IN_FLIGHT_PER_ADDRESS: '1' }).authInFlightPerAddress).toBe(1);
    expect(loadConfig({ ...base, AUTH_IN_FLIGHT_PER_ADDRESS: '32' }).authInFlightPerAddress).toBe(32);
    for (const value of ['0', '33', 'two', '1.5']) {
      expect(() => loadConfig({ ...base, AUTH_IN_FLIGHT_PER_ADDRESS: value })).toThrow(/^AUTH_IN_FLIGHT_PER_ADDRESS /);
    }
  });

  it('refuses an AUTH_ACCOUNT_GLOBAL_RATE_LIMIT that one address could reach on its own', () => {
    for (const env of [{ AUTH_ACCOUNT_GLOBAL_RATE_LIMIT: '10' }, { AUTH_ACCOUNT_GLOBAL_RATE_LIMIT: '5' }, { AUTH_ACCOUNT_RATE_LIMIT: '100' }]) {
      expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, ...env })).toThrow(/^AUTH_ACCOUNT_GLOBAL_RATE_LIMIT must be more than AUTH_ACCOUNT_RATE_LIMIT/);
    }
    expect(loadConfig({ ...base, AUTH_ACCOUNT_GLOBAL_RATE_LIMIT: '11' }).authAccountGlobalRateLimitPerMinute).toBe(11);
  });

  it('refuses limits that are not positive integers, or an all-addresses limit not above the per-address one, when the limiters are built', () => {
    const logger = silentLogger();
    const valid = { perAddressPerMinute: 20, perAccountPerAddressPerMinute: 10, perAccountAllAddressesPerMinute: 100, logger };
    expect(() => rateLimits(valid)).not.toThrow();
    expect(() => rateLimits({ ...valid, perAddressPerMinute: 0 })).toThrow(TypeError);
    expect(() => rateLimits({ ...valid, perAccountPerAddressPerMinute: Number.NaN })).toThrow(TypeError);
    expect(() => rateLimits({ ...valid, perAccountAllAddressesPerMinute: 2.5 })).toThrow(TypeError);
    expect(() => rateLimits({ ...valid, perAccountAllAddressesPerMinute: 10 })).toThrow(TypeError);
    expect(() => rateLimits({ ...valid, perAccountPerAddressPerMinute: 100, perAccountAllAddressesPerMinute: undefined as never })).toThrow(TypeError);
  });
});
