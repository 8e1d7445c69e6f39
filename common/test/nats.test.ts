import { afterAll, afterEach, beforeAll, describe, it, expect } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { AUTH_STREAM, Subjects, connectNats, ensureAuthStream } from '@ticketing/common/events';
import { AUTH_DUPLICATE_WINDOW_MS, AUTH_MIN_MAX_AGE_MS } from '../src/events/nats.js';
import { capturingLogger, freePort, startNatsServer, waitFor, type NatsServer } from '@ticketing/testing';

const nanos = (ms: number) => ms * 1_000_000;
const WINDOW_MS = 15 * 60_000 + 30_000;
const UNREACHABLE = 'NATS unreachable; retrying in the background';

let server: NatsServer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await server?.destroy();
});

function client(url: string, options: { registry?: Registry } = {}) {
  const { logger, lines } = capturingLogger();
  const nats = connectNats({ url, name: 'nats-test', logger, retryDelayMs: 50, ...options });
  cleanups.push(() => nats.close());
  return { nats, lines };
}

/** Tracks whether a promise has settled, without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false };
  promise.then(() => { state.settled = true; }, () => { state.settled = true; });
  return state;
}

/** Lets every callback already queued run, so a promise that was about to settle has settled. */
const drainCallbacks = () => new Promise((resolve) => setImmediate(resolve));

async function rawConnection(): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url });
  cleanups.push(() => nc.close());
  return nc;
}

async function deleteAuthStream(jsm: JetStreamManager) {
  await jsm.streams.delete(AUTH_STREAM).catch((err: Error) => {
    if (!/stream not found/i.test(err.message)) throw err;
  });
}

describe('connectNats', () => {
  it('connects to a running server', async () => {
    const registry = new Registry();
    const { nats } = client(server.url, { registry });
    const nc = await nats.connection();
    expect(nats.isConnected()).toBe(true);
    expect(nc.isClosed()).toBe(false);
    // A second caller gets the same connection at once.
    expect(await nats.connection()).toBe(nc);
    expect(await registry.getSingleMetricAsString('nats_connected')).toMatch(/^nats_connected 1$/m);
  });

  it('stays pending while nothing listens, and says so', async () => {
    const registry = new Registry();
    const { nats, lines } = client(`nats://127.0.0.1:${await freePort()}`, { registry });
    const waiting = track(nats.connection());
    await waitFor(() => lines().some((line) => line.msg === UNREACHABLE), { timeoutMs: 5_000, what: 'the first failed attempt' });
    await drainCallbacks();
    expect(waiting.settled).toBe(false);
    expect(nats.isConnected()).toBe(false);
    expect(await registry.getSingleMetricAsString('nats_connected')).toMatch(/^nats_connected 0$/m);
    // One warning, not one per attempt.
    await waitFor(() => lines().length >= 1, { what: 'a log line' });
    expect(lines().filter((line) => line.msg === UNREACHABLE)).toHaveLength(1);
  });

  it('connects by itself once a server starts on its port', async () => {
    const late = await startNatsServer();
    cleanups.push(() => late.destroy());
    await late.stop();
    const { nats, lines } = client(late.url);
    const connection = nats.connection();
    const waiting = track(connection);
    await waitFor(() => lines().some((line) => line.msg === UNREACHABLE), { timeoutMs: 5_000, what: 'the first failed attempt' });
    await drainCallbacks();
    expect(waiting.settled).toBe(false);
    expect(nats.isConnected()).toBe(false);

    await late.start();
    const nc = await connection;
    expect(nc.isClosed()).toBe(false);
    expect(nats.isConnected()).toBe(true);
    expect(lines().some((line) => line.msg === 'NATS connected')).toBe(true);
  });

  it('notices an outage and reconnects by itself', async () => {
    const flaky = await startNatsServer();
    cleanups.push(() => flaky.destroy());
    const { nats } = client(flaky.url);
    const nc = await nats.connection();
    await flaky.stop();
    await waitFor(() => !nats.isConnected(), { timeoutMs: 10_000, what: 'the client to notice the outage' });
    await flaky.start();
    await waitFor(() => nats.isConnected(), { timeoutMs: 15_000, what: 'the client to reconnect' });
    expect(await nats.connection()).toBe(nc);
    await nc.flush();
  });

  it('rejects pending connection() waiters on close(), and every later call', async () => {
    const { nats } = client(`nats://127.0.0.1:${await freePort()}`);
    const first = nats.connection();
    const second = nats.connection();
    await nats.close();
    await expect(first).rejects.toThrow('NATS client closed');
    await expect(second).rejects.toThrow('NATS client closed');
    await expect(nats.connection()).rejects.toThrow('NATS client closed');
    expect(nats.isConnected()).toBe(false);
  });

  it('closes a live connection on close()', async () => {
    const { nats } = client(server.url);
    const nc = await nats.connection();
    await nats.close();
    expect(nats.isConnected()).toBe(false);
    await nc.closed();
    expect(nc.isClosed()).toBe(true);
    await expect(nats.connection()).rejects.toThrow('NATS client closed');
  });
});

describe('connectNats with credentials', () => {
  let secured: NatsServer;
  beforeAll(async () => {
    secured = await startNatsServer({ args: ['--user', 'orders', '--pass', 's3cret-pass'] });
  });
  afterAll(() => secured?.destroy());

  it('connects with the user and password in the URL, and never logs the password', async () => {
    const { logger, lines } = capturingLogger();
    const url = `nats://orders:s3cret-pass@127.0.0.1:${secured.port}`;
    const nats = connectNats({ url, name: 'credentials-test', logger, retryDelayMs: 50 });
    try {
      const nc = await nats.connection();
      expect(nc.isClosed()).toBe(false);
      expect(lines()).toContainEqual(expect.objectContaining({ msg: 'NATS connected', url: `nats://orders:***@127.0.0.1:${secured.port}` }));
    } finally {
      await nats.close();
    }
    expect(JSON.stringify(lines())).not.toContain('s3cret-pass');
  });

  it('keeps trying with a wrong password, and logs neither password', async () => {
    const { logger, lines } = capturingLogger();
    const nats = connectNats({ url: `nats://orders:wrong-pass@127.0.0.1:${secured.port}`, name: 'credentials-test', logger, retryDelayMs: 50 });
    try {
      await waitFor(() => lines().some((line) => line.msg === 'NATS unreachable; retrying in the background'), { timeoutMs: 10_000, what: 'the refusal' });
      expect(nats.isConnected()).toBe(false);
    } finally {
      await nats.close();
    }
    expect(JSON.stringify(lines())).not.toContain('wrong-pass');
  });
});

describe('ensureAuthStream', () => {
  async function authConfig(jsm: JetStreamManager) {
    return (await jsm.streams.info(AUTH_STREAM)).config;
  }

  it('creates the AUTH stream as the design says, and is idempotent', async () => {
    const jsm = await jetstreamManager(await rawConnection());
    await deleteAuthStream(jsm);
    await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
    await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
    const config = await authConfig(jsm);
    expect(config.subjects).toEqual([Subjects.All]);
    expect(config.subjects).toEqual(['auth.>']);
    expect(config.storage).toBe(StorageType.File);
    expect(config.duplicate_window).toBe(nanos(120_000));
    expect(config.duplicate_window).toBe(nanos(AUTH_DUPLICATE_WINDOW_MS));
    expect(config.max_age).toBeGreaterThanOrEqual(nanos(24 * 3_600_000));
    expect(AUTH_MIN_MAX_AGE_MS).toBe(24 * 3_600_000);
    const streams = await jsm.streams.names().next();
    expect(streams.filter((name) => name === AUTH_STREAM)).toHaveLength(1);
  });

  it('can be called from two connections at once', async () => {
    const [one, two] = await Promise.all([rawConnection(), rawConnection()]);
    const [jsmOne, jsmTwo] = await Promise.all([jetstreamManager(one), jetstreamManager(two)]);
    await deleteAuthStream(jsmOne);
    await Promise.all([
      ensureAuthStream(jsmOne, { windowMs: WINDOW_MS }),
      ensureAuthStream(jsmTwo, { windowMs: WINDOW_MS }),
      ensureAuthStream(jsmOne, { windowMs: WINDOW_MS }),
      ensureAuthStream(jsmTwo, { windowMs: WINDOW_MS }),
    ]);
    const config = await authConfig(jsmTwo);
    expect(config.subjects).toEqual(['auth.>']);
    expect(config.max_age).toBeGreaterThanOrEqual(nanos(24 * 3_600_000));
  });

  it('raises a smaller max_age and fixes the duplicate window of an existing stream', async () => {
    const jsm = await jetstreamManager(await rawConnection());
    await deleteAuthStream(jsm);
    await jsm.streams.add({ name: AUTH_STREAM, subjects: ['auth.>'], storage: StorageType.File, max_age: nanos(3_600_000), duplicate_window: nanos(30_000) });
    await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
    const config = await authConfig(jsm);
    expect(config.max_age).toBe(nanos(24 * 3_600_000));
    expect(config.duplicate_window).toBe(nanos(120_000));
    expect(config.subjects).toEqual(['auth.>']);
  });

  it('lifts any cap on messages or bytes, and a discard-new policy, that would drop bans inside the window', async () => {
    const jsm = await jetstreamManager(await rawConnection());
    await deleteAuthStream(jsm);
    await jsm.streams.add({
      name: AUTH_STREAM, subjects: ['auth.>'], storage: StorageType.File, max_age: nanos(24 * 3_600_000), duplicate_window: nanos(120_000),
      max_msgs: 1, max_bytes: 4096, max_msgs_per_subject: 1, discard: DiscardPolicy.New,
    });
    await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
    const config = await authConfig(jsm);
    expect([config.max_msgs, config.max_bytes, config.max_msgs_per_subject]).toEqual([-1, -1, -1]);
    expect(config.discard).toBe(DiscardPolicy.Old);
  });

  it('grows max_age beyond 24h when tokens live longer, and never lowers it', async () => {
    const jsm = await jetstreamManager(await rawConnection());
    await deleteAuthStream(jsm);
    await ensureAuthStream(jsm, { windowMs: 48 * 3_600_000 });
    expect((await authConfig(jsm)).max_age).toBe(nanos(48 * 3_600_000));
    await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
    expect((await authConfig(jsm)).max_age).toBe(nanos(48 * 3_600_000));
  });

  it('widens an existing stream with narrower auth subjects to auth.> (the server refuses overlapping ones)', async () => {
    const jsm = await jetstreamManager(await rawConnection());
    await deleteAuthStream(jsm);
    await jsm.streams.add({
      name: AUTH_STREAM,
      subjects: ['auth.user.banned', 'auth.user.unbanned'],
      storage: StorageType.File,
      max_age: nanos(24 * 3_600_000),
      duplicate_window: nanos(120_000),
    });
    await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
    expect((await authConfig(jsm)).subjects).toEqual(['auth.>']);
    // And the widened stream now takes every auth subject.
    const nc = await rawConnection();
    const ack = await jetstream(nc).publish('auth.user.sessions-revoked', new Uint8Array(0));
    expect(ack.stream).toBe(AUTH_STREAM);
  });
});
