import { createHmac, createPublicKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, nkeyAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { AUTH_STREAM, encodeEvent, Subjects } from '@ticketing/common/events';
import { createTokenSigner, createTokenSigningKey, tokenKeyId } from '@ticketing/common/tokens';
import {
  createEs256KeyPair, createNatsUser, createTestDatabase, jwtFromCookie, postJson, sessionCookieOf, startNatsServer, waitFor,
  type NatsServer, type NatsUser, type TestDatabase,
} from '@ticketing/testing';
import { startService, type ServiceProcess } from './service-process.js';
import { signup } from './signup.js';

// The production setup: ES256 tokens that only auth can sign, and a nats-server with the
// repository's own authorization config, where only auth may publish bans or change the stream.
const NATS_CONFIG = fileURLToPath(new URL('../../nats/nats-server.conf', import.meta.url));

let dir: string;
let nats: NatsServer;
let authUser: NatsUser;
let ordersUser: NatsUser;
let authDb: TestDatabase;
let ordersDb: TestDatabase;
const running = new Set<ServiceProcess>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ticketing-trust-'));
  authUser = createNatsUser(dir, 'auth');
  ordersUser = createNatsUser(dir, 'orders');
  [nats, authDb, ordersDb] = await Promise.all([
    startNatsServer({ config: NATS_CONFIG, env: { NATS_AUTH_NKEY: authUser.publicKey, NATS_ORDERS_NKEY: ordersUser.publicKey } }),
    createTestDatabase(),
    createTestDatabase(),
  ]);
});
afterAll(async () => {
  await Promise.all([...running].map((service) => service.stop()));
  await Promise.all([nats?.destroy(), authDb?.drop(), ordersDb?.drop()]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const kidOf = (pem: string) => tokenKeyId(createPublicKey(pem));

/** Starts a service process that the suite stops at the end, unless the test stops it first. */
async function start(name: 'auth' | 'orders', env: Record<string, string>, options: { ready?: boolean } = {}): Promise<ServiceProcess> {
  const service = await startService(name, { NATS_URL: nats.url, LOG_LEVEL: 'info', ...env }, options);
  running.add(service);
  return service;
}

async function stop(service: ServiceProcess): Promise<void> {
  running.delete(service);
  expect(await service.stop()).toBe(0);
}

function authEnv(keys: { sign: string; verify: string[] }): Record<string, string> {
  return {
    DATABASE_URL: authDb.url,
    ADMIN_EMAILS: 'admin@example.com',
    AUTH_RATE_LIMIT: '1000',
    NATS_NKEY_SEED_FILE: authUser.seedFile,
    JWT_ALGORITHM: 'ES256',
    JWT_PRIVATE_KEY: keys.sign,
    JWT_PUBLIC_KEYS: keys.verify.join(''),
  };
}

function ordersEnv(publicKeys: string[]): Record<string, string> {
  return { DATABASE_URL: ordersDb.url, NATS_NKEY_SEED_FILE: ordersUser.seedFile, JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEYS: publicKeys.join('') };
}

/** A NATS connection that signs in as `user`. */
/** A NATS connection that signs in as `user`, with the inbox its service name gives it (as connectNats does). */
const connectAs = (user: NatsUser, service: string, url = nats.url) => connect({
  servers: url, authenticator: nkeyAuthenticator(new TextEncoder().encode(user.seed)), inboxPrefix: `_INBOX_${service}`,
});

const listOrders = (orders: ServiceProcess, headers: Record<string, string>) => fetch(`${orders.url}/api/orders`, { headers });

/** A nats-server with the repository's authorization config, for these two users. */
const startSecuredNats = () => startNatsServer({ config: NATS_CONFIG, env: { NATS_AUTH_NKEY: authUser.publicKey, NATS_ORDERS_NKEY: ordersUser.publicKey } });

it('lets no anonymous client or unknown user connect to NATS', async () => {
  await expect(connect({ servers: nats.url })).rejects.toThrow(/Authorization Violation/);
  const stranger = createNatsUser(dir, 'stranger');
  await expect(connectAs(stranger, 'orders')).rejects.toThrow(/Authorization Violation/);
});

it('starts orders before auth: it waits, not ready, for auth to create the stream, which it cannot do itself', async () => {
  // A NATS of its own, on which no auth has run yet.
  const fresh = await startSecuredNats();
  try {
    const keys = createEs256KeyPair();
    const orders = await start('orders', { ...ordersEnv([keys.publicKeyPem]), NATS_URL: fresh.url }, { ready: false });
    await waitFor(() => orders.output().includes('waiting for auth to create it'), { what: 'orders to say it waits for the stream' });
    const ready = await fetch(`${orders.url}/healthz/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('waiting for auth to create the AUTH stream');
    const reader = await connectAs(ordersUser, 'orders', fresh.url);
    await expect((await jetstreamManager(reader)).streams.info(AUTH_STREAM)).rejects.toThrow(/stream not found/);
    await reader.close();

    const auth = await start('auth', { ...authEnv({ sign: keys.privateKeyPem, verify: [keys.publicKeyPem] }), NATS_URL: fresh.url });
    await waitFor(async () => (await fetch(`${orders.url}/healthz/ready`)).status === 200, { timeoutMs: 15_000, what: 'orders to turn ready' });
    expect(orders.output()).not.toMatch(/Permissions Violation/);
    await stop(orders);
    await stop(auth);
  } finally {
    await fresh.destroy();
  }
});

describe('a system on the secured NATS', () => {
  const keys = createEs256KeyPair();
  let auth: ServiceProcess;
  let orders: ServiceProcess;
  let reader: NatsConnection;

  beforeAll(async () => {
    auth = await start('auth', authEnv({ sign: keys.privateKeyPem, verify: [keys.publicKeyPem] }));
    orders = await start('orders', ordersEnv([keys.publicKeyPem]));
    reader = await connectAs(ordersUser, 'orders');
  });
  afterAll(async () => {
    await reader?.close();
    for (const service of [orders, auth]) if (service !== undefined) await stop(service);
  });

  it('a ban made through auth reaches orders', async () => {
    const admin = await signup(auth.url, 'admin@example.com');
    const user = await signup(auth.url, 'trusted@example.com');
    expect((await listOrders(orders, { cookie: user.cookie })).status).toBe(200);
    expect((await postJson(`${auth.url}/api/admin/users/${user.id}/ban`, { reason: 'spam' }, admin.cookie)).status).toBe(200);
    await waitFor(async () => (await listOrders(orders, { cookie: user.cookie })).status === 403, { timeoutMs: 10_000, what: 'orders to refuse the banned user' });
    expect(orders.output()).not.toMatch(/Permissions Violation/);
  });

  it('a service\'s NATS user cannot forge a ban or an unban, or purge, delete or change the stream', async () => {
    const jsm = await jetstreamManager(reader);
    const before = (await jsm.streams.info(AUTH_STREAM)).state.messages;
    const forged = encodeEvent({ id: crypto.randomUUID(), userId: crypto.randomUUID(), bannedAt: new Date().toISOString(), reason: 'forged', version: 1 });
    const js = jetstream(reader, { timeout: 2_000 });
    await expect(js.publish(Subjects.UserBanned, forged)).rejects.toThrow(/Permissions Violation for Publish to "auth.user.banned"/);
    await expect(js.publish(Subjects.UserUnbanned, forged)).rejects.toThrow(/Permissions Violation/);
    // A core publish is refused by the server too; flush so its verdict is in before counting.
    reader.publish('auth.user.banned', forged);
    await reader.flush();
    const { config } = await jsm.streams.info(AUTH_STREAM);
    const attempts: [string, () => Promise<unknown>][] = [
      ['purge', () => jsm.streams.purge(AUTH_STREAM)],
      ['delete', () => jsm.streams.delete(AUTH_STREAM)],
      ['update', () => jsm.streams.update(AUTH_STREAM, { ...config, max_msgs: 1 })],
      ['delete a message', () => jsm.streams.deleteMessage(AUTH_STREAM, 1)],
      ['create another stream', () => jsm.streams.add({ name: 'SHADOW', subjects: ['shadow.>'] })],
    ];
    for (const [what, attempt] of attempts) {
      await expect(attempt(), what).rejects.toThrow(/Permissions Violation/);
    }
    const after = await (await jetstreamManager(reader)).streams.info(AUTH_STREAM);
    expect(after.state.messages).toBe(before);
    expect(after.config.max_msgs).toBe(-1);
    // Auth's user may publish: the one the outbox relay uses.
    const authNc = await connectAs(authUser, 'auth');
    try {
      const ack = await jetstream(authNc).publish('auth.test.allowed', encodeEvent({ id: crypto.randomUUID(), userId: crypto.randomUUID(), unbannedAt: new Date().toISOString(), version: 1 }));
      expect(ack.stream).toBe(AUTH_STREAM);
      await expect((await jetstreamManager(authNc)).streams.delete(AUTH_STREAM)).rejects.toThrow(/Permissions Violation/);
    } finally {
      await authNc.close();
    }
  });

  it('a service cannot have the server write into the stream through a reply subject, or read another\'s inbox', async () => {
    const jsm = await jetstreamManager(reader);
    const before = (await jsm.streams.info(AUTH_STREAM)).state.last_seq;
    // Within one account the server would publish its answer to whatever reply subject is asked
    // for, and the stream would store it: here the answer stays in the services' account.
    reader.publish('$JS.API.STREAM.INFO.AUTH', '', { reply: 'auth.user.banned' });
    reader.publish('$JS.API.INFO', '', { reply: 'auth.user.unbanned' });
    const consumer = await jetstream(reader).consumers.get(AUTH_STREAM, { filter_subjects: 'auth.user.>' });
    const { name } = await consumer.info(true);
    reader.publish(`$JS.API.CONSUMER.MSG.NEXT.AUTH.${name}`, JSON.stringify({ batch: 10, no_wait: true }), { reply: 'auth.user.banned' });
    await reader.flush();
    // Requests from one connection are answered in order: by this answer, those above were too.
    expect((await jsm.streams.info(AUTH_STREAM)).state.last_seq).toBe(before);

    for (const inbox of ['_INBOX.>', '_INBOX_auth.>', '>']) {
      // The client ends the subscription with the server's verdict.
      const verdict = await reader.subscribe(inbox).closed;
      expect(String(verdict), inbox).toMatch(/Permissions Violation for Subscription/);
    }
  });

  it('refuses tokens made without auth\'s private key: an unknown kid, no kid, or the public key as an HMAC secret', async () => {
    const stranger = createEs256KeyPair();
    const now = Date.now();
    const claims = { id: crypto.randomUUID(), email: 'mallory@example.com', role: 'admin' as const };
    const foreign = createTokenSigner({ key: createTokenSigningKey(stranger.privateKeyPem), ttlMs: 60_000, now: () => now }).sign(claims);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const payload = b64({ ...claims, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 60, iss: 'ticketing-auth' });
    const hmacInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: kidOf(keys.publicKeyPem) })}.${payload}`;
    const confused = `${hmacInput}.${createHmac('sha256', keys.publicKeyPem).update(hmacInput).digest('base64url')}`;
    const [, , signature] = foreign.split('.');
    const noKid = `${b64({ alg: 'ES256', typ: 'JWT' })}.${payload}.${signature}`;
    for (const token of [foreign, confused, noKid]) {
      const res = await listOrders(orders, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ errors: [{ message: 'Not authenticated' }] });
    }
    expect(orders.output()).toMatch(/names no key this service holds/);
  });
});

describe('rotating the signing key with no downtime', () => {
  it('adds the new public key everywhere, switches signing, then retires the old key', async () => {
    const [oldKey, newKey] = [createEs256KeyPair(), createEs256KeyPair()];
    const cookieKid = (cookie: string) => (JSON.parse(Buffer.from(jwtFromCookie(cookie).split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    const currentUser = async (auth: ServiceProcess, cookie: string) => ((await (await fetch(`${auth.url}/api/users/currentuser`, { headers: { cookie } })).json()) as { currentUser: { email: string } | null }).currentUser;
    const signin = async (auth: ServiceProcess, email: string) => {
      const res = await postJson(`${auth.url}/api/users/signin`, { email, password: 'password1' });
      expect(res.status).toBe(200);
      return sessionCookieOf(res);
    };

    // Before: auth signs with the old key; everyone verifies with it alone.
    let auth = await start('auth', authEnv({ sign: oldKey.privateKeyPem, verify: [oldKey.publicKeyPem] }));
    let orders = await start('orders', ordersEnv([oldKey.publicKeyPem]));
    const old = await signup(auth.url, 'rotating@example.com');
    expect(cookieKid(old.cookie)).toBe(kidOf(oldKey.publicKeyPem));

    // 1. Add the new public key everywhere (orders, then auth); signing is unchanged.
    await stop(orders);
    orders = await start('orders', ordersEnv([oldKey.publicKeyPem, newKey.publicKeyPem]));
    expect((await listOrders(orders, { cookie: old.cookie })).status).toBe(200);

    // 2. Switch auth to sign with the new key, keeping the old public key: both tokens pass.
    // Two auth replicas overlap, as in a rolling update: the old one still signs with the old key.
    const next = await start('auth', authEnv({ sign: newKey.privateKeyPem, verify: [oldKey.publicKeyPem, newKey.publicKeyPem] }));
    const fresh = await signin(next, 'rotating@example.com');
    expect(cookieKid(fresh)).toBe(kidOf(newKey.publicKeyPem));
    const during = await signin(auth, 'rotating@example.com');
    expect(cookieKid(during)).toBe(kidOf(oldKey.publicKeyPem));
    for (const cookie of [old.cookie, during, fresh]) {
      expect((await listOrders(orders, { cookie })).status).toBe(200);
      expect(await currentUser(next, cookie)).toMatchObject({ email: 'rotating@example.com' });
    }
    const jwks = (await (await fetch(`${next.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual([kidOf(oldKey.publicKeyPem), kidOf(newKey.publicKeyPem)]);
    await stop(auth);
    auth = next;

    // 3. One token lifetime later, retire the old key everywhere: its tokens are refused, the new ones pass.
    await stop(orders);
    orders = await start('orders', ordersEnv([newKey.publicKeyPem]));
    await stop(auth);
    auth = await start('auth', authEnv({ sign: newKey.privateKeyPem, verify: [newKey.publicKeyPem] }));
    expect((await listOrders(orders, { cookie: old.cookie })).status).toBe(401);
    expect(await currentUser(auth, old.cookie)).toBeNull();
    expect((await listOrders(orders, { cookie: fresh })).status).toBe(200);
    expect(await currentUser(auth, fresh)).toMatchObject({ email: 'rotating@example.com' });
    await stop(orders);
    await stop(auth);
  });
});
