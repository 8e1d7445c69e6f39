import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it, expect } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type PubAck } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { BanList } from '@ticketing/common/bans';
import {
  AUTH_STREAM, Subjects, connectNats, encodeEvent, ensureAuthStream, startServiceBanSync,
  type UserBannedPayload, type UserUnbannedPayload,
} from '@ticketing/common/events';
import { serviceReadiness } from '@ticketing/common/runtime';
import { startBanSync } from '../src/events/ban-sync.js';
import { capturingLogger, startNatsServer, waitFor, type NatsServer } from '@ticketing/testing';

/** ACCESS_TOKEN_TTL (15m) + CLOCK_SKEW (30s). */
const WINDOW_MS = 15 * 60_000 + 30_000;

let server: NatsServer;
let pub: NatsConnection;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});

beforeEach(async () => {
  // A publisher of each test's own: one that lived through an earlier test's outage may still be
  // reconnecting.
  pub = await connect({ servers: server.url });
  const jsm = await jetstreamManager(pub);
  await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
  // Each test starts from an empty stream, so what a sync replays is what that test published.
  await jsm.streams.purge(AUTH_STREAM);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await pub.close();
  await server.start(); // an outage test may have left it stopped; a no-op when it runs
});

afterAll(async () => {
  await server?.destroy();
});

function banEvent(userId: string, options: { version?: number; bannedAtMs?: number } = {}): UserBannedPayload {
  return {
    id: randomUUID(),
    userId,
    bannedAt: new Date(options.bannedAtMs ?? Date.now()).toISOString(),
    reason: 'test',
    version: options.version ?? 1,
  };
}

function unbanEvent(userId: string, version: number): UserUnbannedPayload {
  return { id: randomUUID(), userId, unbannedAt: new Date().toISOString(), version };
}

function publish(subject: string, data: Uint8Array, msgID: string = randomUUID(), nc: NatsConnection = pub): Promise<PubAck> {
  return jetstream(nc).publish(subject, data, { msgID });
}

const publishBan = (event: UserBannedPayload) => publish(Subjects.UserBanned, encodeEvent(event), event.id);
const publishUnban = (event: UserUnbannedPayload) => publish(Subjects.UserUnbanned, encodeEvent(event), event.id);

/** A unique user id, so that nothing one test does can satisfy another's assertion. */
const newUser = (_label = 'user') => randomUUID();

/** The sum of a metric's values whose labels include `labels`. */
async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}

/** A NATS client and a ban sync on the private server, stopped and closed after the test. */
function startSync(options: { now?: () => number; windowMs?: number; clockSkewMs?: number; manageStream?: boolean; checkIntervalMs?: number; name?: string } = {}) {
  const registry = new Registry();
  const { logger, lines } = capturingLogger();
  const nats = connectNats({ url: server.url, name: options.name ?? 'ban-sync-test', logger, retryDelayMs: 50 });
  // The list keeps the real clock and the full window: whatever the sync hands it is applied.
  const bans = new BanList({ max: 1_000, windowMs: WINDOW_MS, logger });
  const sync = startBanSync({
    nats, bans, windowMs: options.windowMs ?? WINDOW_MS, clockSkewMs: options.clockSkewMs, manageStream: options.manageStream, logger, registry, retryDelayMs: 50, now: options.now,
    checkIntervalMs: options.checkIntervalMs,
  });
  cleanups.push(async () => {
    await sync.stop();
    await nats.close();
  });
  return { sync, bans, nats, registry, lines };
}

describe('startBanSync: replay', () => {
  it('is ready at once on an empty stream', async () => {
    const { sync, bans, registry } = startSync();
    await sync.ready;
    expect(sync.isCaughtUp()).toBe(true);
    expect(bans.size).toBe(0);
    expect(await metricValue(registry, 'ban_sync_caught_up')).toBe(1);
  });

  it('resolves ready only once every event of the window has been applied', async () => {
    const bannedAtMs = Date.now();
    const users = Array.from({ length: 50 }, (_, i) => newUser(`replay-${i}`));
    for (const userId of users) await publishBan(banEvent(userId, { bannedAtMs }));

    const { sync, bans, registry } = startSync();
    expect(sync.isCaughtUp()).toBe(false);
    // Counted the moment ready resolves, before the test goes on.
    const bannedWhenReady = sync.ready.then(() => users.filter((userId) => bans.isBanned(userId, bannedAtMs)).length);
    expect(await bannedWhenReady).toBe(50);
    expect(sync.isCaughtUp()).toBe(true);
    expect(await metricValue(registry, 'ban_events_applied_total', { subject: Subjects.UserBanned, result: 'applied' })).toBe(50);
    expect(await metricValue(registry, 'ban_list_size')).toBe(50);
  });

  it('replays unbans too, in order', async () => {
    const userId = newUser();
    const bannedAtMs = Date.now();
    await publishBan(banEvent(userId, { bannedAtMs, version: 1 }));
    await publishUnban(unbanEvent(userId, 2));
    const { sync, bans } = startSync();
    await sync.ready;
    expect(bans.isActive(userId)).toBe(false);
    expect(bans.isBanned(userId, bannedAtMs)).toBe(true);
    expect(bans.isBanned(userId, Date.now() + 1_000)).toBe(false);
  });

  it('replays the window back from the stream\'s last message by the server timestamp, and no further back', async () => {
    const jsm = await jetstreamManager(pub);
    const before = newUser('before');
    const inside = newUser('inside');
    const ackBefore = await publishBan(banEvent(before));
    const storedBefore = await jsm.streams.getMessage(AUTH_STREAM, { seq: ackBefore.seq });
    const beforeMs = storedBefore!.time.getTime();
    // The window opens 1 ms after the first event was stored; wait (on the clock, not a fixed
    // sleep) until the next one is surely stored later than that.
    await waitFor(() => Date.now() > beforeMs + 5, { timeoutMs: 1_000, intervalMs: 1, what: 'the clock to move' });
    const ackInside = await publishBan(banEvent(inside));
    const storedInside = await jsm.streams.getMessage(AUTH_STREAM, { seq: ackInside.seq });
    expect(storedInside!.time.getTime()).toBeGreaterThan(beforeMs + 1);

    // The window (1 ms + 1 ms of skew) opens after the first event was stored and before the last.
    const windowMs = 1;
    const clockSkewMs = 1;
    const { sync, bans, registry } = startSync({ windowMs, clockSkewMs });
    await sync.ready;
    expect(bans.isBanned(inside, Date.now() - 60_000)).toBe(true);
    expect(bans.isBanned(before, Date.now() - 60_000)).toBe(false);
    // Not even looked at: nothing was counted for it, expired or otherwise.
    expect(await metricValue(registry, 'ban_events_applied_total')).toBe(1);
  });

  it('still replays recent bans when this service\'s clock runs ahead of the NATS server\'s by more than the skew', async () => {
    const userId = newUser();
    await publishBan(banEvent(userId));
    // By this service's clock the event is older than the window; by the stream's it is the latest.
    const { sync, bans } = startSync({ windowMs: 1_000, clockSkewMs: 1_000, now: () => Date.now() + 60_000 });
    await sync.ready;
    expect(bans.isBanned(userId, Date.now() - 60_000)).toBe(true);
  });
});

describe('startBanSync: live events', () => {
  it('applies bans and unbans published after ready', async () => {
    const { sync, bans, registry } = startSync();
    await sync.ready;
    const userId = newUser();
    const bannedAtMs = Date.now();
    await publishBan(banEvent(userId, { bannedAtMs }));
    await waitFor(() => bans.isBanned(userId, bannedAtMs), { timeoutMs: 5_000, what: 'the live ban' });
    await publishUnban(unbanEvent(userId, 2));
    await waitFor(() => !bans.isActive(userId), { timeoutMs: 5_000, what: 'the live unban' });
    expect(bans.isBanned(userId, bannedAtMs)).toBe(true);
    expect(await metricValue(registry, 'ban_events_applied_total', { subject: Subjects.UserUnbanned, result: 'applied' })).toBe(1);
  });

  it('writes an audit line at info for each live event, with its id, and replayed ones at debug', async () => {
    const replayed = newUser('audit-replayed');
    await publishBan(banEvent(replayed, { bannedAtMs: Date.now() }));
    const { sync, bans, lines } = startSync();
    await sync.ready;
    const live = banEvent(newUser('audit-live'), { bannedAtMs: Date.now() });
    await publishBan(live);
    await waitFor(() => bans.isActive(live.userId), { timeoutMs: 5_000, what: 'the live ban' });
    const audits = lines().filter((line) => line.audit === 'ban.received');
    expect(audits.find((line) => line.userId === replayed)).toMatchObject({ level: 20 });
    expect(audits.find((line) => line.userId === live.userId)).toMatchObject({
      level: 30, eventId: live.id, bannedAt: live.bannedAt, result: 'applied', msg: `${Subjects.UserBanned} applied`,
    });
  });

  it('skips and counts a malformed event, and applies the ones after it', async () => {
    const first = newUser('first');
    const after = newUser('after');
    await publishBan(banEvent(first));
    await publish(Subjects.UserBanned, new TextEncoder().encode('{ not json'));
    await publish(Subjects.UserBanned, encodeEvent({ ...banEvent(newUser()), version: 0 }));
    await publishBan(banEvent(after));

    const { sync, bans, registry, lines } = startSync();
    await sync.ready;
    expect(bans.isBanned(first, Date.now() - 60_000)).toBe(true);
    expect(bans.isBanned(after, Date.now() - 60_000)).toBe(true);
    expect(await metricValue(registry, 'ban_events_malformed_total')).toBe(2);
    expect(await metricValue(registry, 'ban_events_applied_total')).toBe(2);
    expect(lines().filter((line) => line.msg === 'skipping a malformed auth event')).toHaveLength(2);

    // And live: a malformed event does not stop the sync either.
    const live = newUser('live');
    await publish(Subjects.UserUnbanned, new TextEncoder().encode('[]'));
    await publishBan(banEvent(live));
    await waitFor(() => bans.isBanned(live, Date.now() - 60_000), { timeoutMs: 5_000, what: 'the ban after a live malformed event' });
    expect(await metricValue(registry, 'ban_events_malformed_total')).toBe(3);
  });

  it('applies a ban dated after the stream stored it as dated, refusing every token its fast clock made before it', async () => {
    const fast = newUser('fast clock');
    const forged = newUser('far future');
    // An auth database whose clock runs 40 s ahead under a 30 s skew dates its tokens and its bans
    // alike; a forged date a century out.
    const fastBannedAtMs = Date.now() + 40_000;
    await publishBan(banEvent(fast, { bannedAtMs: fastBannedAtMs }));
    const forgedAtMs = Date.parse('2126-01-01T00:00:00Z');
    await publishBan(banEvent(forged, { bannedAtMs: forgedAtMs }));

    const { sync, bans, registry, lines } = startSync({ clockSkewMs: 30_000 });
    await sync.ready;
    // A token the fast clock signed a second before its ban (iat in whole seconds) is refused.
    expect(bans.isBanned(fast, Math.floor((fastBannedAtMs - 1_000) / 1000) * 1000)).toBe(true);
    expect(bans.isBanned(fast, fastBannedAtMs)).toBe(true);
    expect(bans.isBanned(forged, forgedAtMs)).toBe(true);
    expect(await metricValue(registry, 'ban_events_clamped_total')).toBe(2);
    expect(await metricValue(registry, 'ban_events_malformed_total')).toBe(0);
    expect(lines().filter((line) => line.level === 40 && /more than CLOCK_SKEW after the stream/.test(String(line.msg)))).toHaveLength(2);
  });

  it('keeps a ban for its whole window when the NATS server\'s clock runs behind this service\'s', async () => {
    // This service and the auth database agree; the NATS server (which stamps the stream) is 20 min behind.
    const clock = { offsetMs: 20 * 60_000 };
    const now = () => Date.now() + clock.offsetMs;
    const userId = newUser();
    const bannedAtMs = now();
    await publishBan(banEvent(userId, { bannedAtMs }));
    const { logger } = capturingLogger();
    const nats = connectNats({ url: server.url, name: 'ban-sync-test', logger, retryDelayMs: 50 });
    const bans = new BanList({ max: 1_000, windowMs: WINDOW_MS, logger, now });
    const sync = startBanSync({ nats, bans, windowMs: WINDOW_MS, clockSkewMs: 30_000, logger, retryDelayMs: 50, now });
    cleanups.push(async () => {
      await sync.stop();
      await nats.close();
    });
    // The replay reaches it although, by this service's clock, the stream stored it 20 min ago.
    await waitFor(() => bans.isBanned(userId, bannedAtMs), { timeoutMs: 10_000, what: 'the replayed ban' });
    // A token issued at the ban lives until bannedAt + ACCESS_TOKEN_TTL (+ skew): the entry must too.
    clock.offsetMs += WINDOW_MS - 2_000;
    expect(bans.isBanned(userId, bannedAtMs)).toBe(true);
  });

  it('applies a ban whose fields other than userId, bannedAt and version break the contract', async () => {
    const users = [newUser(), newUser(), newUser()];
    const bannedAtMs = Date.now();
    await publish(Subjects.UserBanned, encodeEvent({ ...banEvent(users[0]!, { bannedAtMs }), reason: 'r'.repeat(5_000) }));
    const { reason: _reason, ...noReason } = banEvent(users[1]!, { bannedAtMs });
    await publish(Subjects.UserBanned, encodeEvent(noReason as UserBannedPayload));
    await publish(Subjects.UserBanned, encodeEvent({ ...banEvent(users[2]!, { bannedAtMs }), id: 'evt-1', extra: true } as UserBannedPayload));
    // Without a usable userId, bannedAt or version there is nothing to enforce.
    await publish(Subjects.UserBanned, encodeEvent({ ...banEvent(newUser(), { bannedAtMs }), bannedAt: 'yesterday' }));

    const { sync, bans, registry, lines } = startSync();
    await sync.ready;
    for (const userId of users) expect(bans.isBanned(userId, bannedAtMs)).toBe(true);
    expect(await metricValue(registry, 'ban_events_malformed_total')).toBe(4);
    expect(lines().filter((line) => line.msg === 'applying a ban or revocation whose other fields break the contract')).toHaveLength(3);
    expect(lines().filter((line) => line.msg === 'skipping a malformed auth event')).toHaveLength(1);
  });

  it('lets no forged version or order loosen a ban', async () => {
    const userId = newUser();
    const bannedAtMs = Date.now();
    await publishBan(banEvent(userId, { bannedAtMs, version: 1 }));
    // An unban claiming the highest version, then a "newer" ban dated earlier than the real one.
    await publish(Subjects.UserUnbanned, encodeEvent({ id: randomUUID(), userId, unbannedAt: new Date().toISOString(), version: Number.MAX_SAFE_INTEGER }));
    await publishBan(banEvent(userId, { bannedAtMs: bannedAtMs - 60_000, version: 7 }));
    const { sync, bans } = startSync();
    await sync.ready;
    expect(bans.isBanned(userId, bannedAtMs)).toBe(true);
    // And a later real ban still moves the entry forward.
    const later = bannedAtMs + 5_000;
    await publishBan(banEvent(userId, { bannedAtMs: later, version: 3 }));
    await waitFor(() => bans.isBanned(userId, later), { timeoutMs: 5_000, what: 'the later ban' });
  });

  it('takes user ids in any letter case to their canonical form', async () => {
    const userId = newUser();
    await publishBan(banEvent(userId.toUpperCase()));
    const { sync, bans } = startSync();
    await sync.ready;
    expect(bans.isBanned(userId, Date.now() - 60_000)).toBe(true);
  });

  it('applies a revocation of sessions, live and replayed, and one whose other fields break the contract', async () => {
    const replayed = newUser();
    const notBefore = new Date().toISOString();
    await publish(Subjects.SessionsRevoked, encodeEvent({ id: randomUUID(), userId: replayed, notBefore, version: 1 }));
    const { sync, bans, registry } = startSync();
    await sync.ready;
    expect(bans.isRevoked(replayed, Date.parse(notBefore))).toBe(true);
    expect(bans.isBanned(replayed, Date.parse(notBefore))).toBe(false);

    const live = newUser();
    const salvaged = newUser();
    await publish(Subjects.SessionsRevoked, encodeEvent({ id: randomUUID(), userId: live.toUpperCase(), notBefore, version: 3 }));
    // An id that is not a UUID breaks the contract, but the revocation itself is sound.
    await publish(Subjects.SessionsRevoked, Buffer.from(JSON.stringify({ id: 'x', userId: salvaged, notBefore, version: 1 })));
    await waitFor(() => bans.isRevoked(live, Date.parse(notBefore)) && bans.isRevoked(salvaged, Date.parse(notBefore)), { what: 'the revocations' });
    expect(await metricValue(registry, 'ban_events_malformed_total')).toBe(1);
    expect(await metricValue(registry, 'ban_events_applied_total', { subject: Subjects.SessionsRevoked, result: 'applied' })).toBe(3);
  });

  it('ignores an event on a subject it does not know, without calling it malformed', async () => {
    const userId = newUser();
    await publish('auth.user.renamed', encodeEvent(banEvent(userId)));
    const after = newUser('after');
    await publishBan(banEvent(after));

    const { sync, bans, registry } = startSync();
    await sync.ready;
    expect(bans.isBanned(after, Date.now() - 60_000)).toBe(true);
    expect(bans.isBanned(userId, Date.now() - 60_000)).toBe(false);
    expect(await metricValue(registry, 'ban_events_malformed_total')).toBe(0);
    expect(await metricValue(registry, 'ban_events_applied_total', { subject: 'auth.user.renamed' })).toBe(0);
    expect(await metricValue(registry, 'ban_events_applied_total')).toBe(1);
  });

  it('sees an event republished with the same message id once (stream de-duplication)', async () => {
    const event = banEvent(newUser());
    const firstAck = await publishBan(event);
    const secondAck = await publishBan(event);
    expect(firstAck.duplicate).toBe(false);
    expect(secondAck.duplicate).toBe(true);
    expect(secondAck.seq).toBe(firstAck.seq);
    expect((await (await jetstreamManager(pub)).streams.info(AUTH_STREAM)).state.messages).toBe(1);

    const { sync, bans, registry } = startSync();
    await sync.ready;
    expect(bans.isBanned(event.userId, Date.parse(event.bannedAt))).toBe(true);
    expect(await metricValue(registry, 'ban_events_applied_total', { result: 'applied' })).toBe(1);
    expect(await metricValue(registry, 'ban_events_applied_total', { result: 'stale' })).toBe(0);
  });

  it('applies the same event under two message ids once, then calls it stale', async () => {
    const event = banEvent(newUser());
    await publish(Subjects.UserBanned, encodeEvent(event), randomUUID());
    await publish(Subjects.UserBanned, encodeEvent(event), randomUUID());

    const { sync, bans, registry } = startSync();
    await sync.ready;
    expect(bans.isBanned(event.userId, Date.parse(event.bannedAt))).toBe(true);
    expect(await metricValue(registry, 'ban_events_applied_total', { subject: Subjects.UserBanned, result: 'applied' })).toBe(1);
    expect(await metricValue(registry, 'ban_events_applied_total', { subject: Subjects.UserBanned, result: 'stale' })).toBe(1);
  });
});

describe('startServiceBanSync', () => {
  it('builds the list from the config and counts live entries pushed out by capacity', async () => {
    const users = [newUser('a'), newUser('b'), newUser('c')];
    for (const userId of users) await publishBan(banEvent(userId));
    const registry = new Registry();
    const { logger, lines } = capturingLogger();
    const nats = connectNats({ url: server.url, name: 'service-ban-sync-test', logger, retryDelayMs: 50 });
    const sync = startServiceBanSync({
      config: { banCacheMax: 2, accessTokenTtlMs: 15 * 60_000, clockSkewMs: 30_000 },
      nats,
      logger,
      registry,
    });
    cleanups.push(async () => {
      await sync.stop();
      await nats.close();
    });
    await sync.ready;
    expect(sync.bans.size).toBe(2);
    expect(await metricValue(registry, 'ban_list_early_evictions_total')).toBe(1);
    expect(lines().filter((line) => line.level === 50 && line.userId === users[0])).toHaveLength(1);
    expect(sync.bans.isBanned(users[2]!, Date.now() - 60_000)).toBe(true);
  });
});

describe('startBanSync: NATS outages', () => {
  it('applies a ban published after NATS restarted, without applying the old ones again', async () => {
    const { sync, bans, nats, registry } = startSync();
    const before = newUser('before');
    await publishBan(banEvent(before));
    await sync.ready;
    await waitFor(() => bans.isBanned(before, Date.now() - 60_000), { timeoutMs: 5_000, what: 'the ban before the outage' });

    await server.stop();
    await waitFor(() => !nats.isConnected(), { timeoutMs: 10_000, what: 'the client to notice the outage' });
    await server.start();

    const after = banEvent(newUser('after'));
    // A fresh publisher, as the auth service's relay would be; JetStream may need a moment after
    // the port opens. The message id makes a retry of a publish that did get through harmless.
    const publisher = await connect({ servers: server.url });
    cleanups.push(() => publisher.close());
    await waitFor(() => publish(Subjects.UserBanned, encodeEvent(after), after.id, publisher), { timeoutMs: 20_000, intervalMs: 100, what: 'a publish after the restart' });
    await waitFor(() => bans.isBanned(after.userId, Date.now() - 60_000), { timeoutMs: 20_000, what: 'the ban after the restart' });
    expect(await metricValue(registry, 'ban_events_applied_total', { result: 'applied' })).toBe(2);
    expect(await metricValue(registry, 'ban_events_applied_total', { result: 'stale' })).toBe(0);
  });

  it('starts while NATS is down, says so, and catches up when it comes', async () => {
    const userId = newUser();
    await publishBan(banEvent(userId));
    await server.stop();

    const { sync, bans, nats, lines } = startSync();
    const readiness = serviceReadiness({ db: { query: async () => undefined }, banSync: sync, nats });
    await waitFor(() => lines().some((line) => line.msg === 'NATS unreachable; retrying in the background'), {
      timeoutMs: 5_000,
      what: 'the client to report NATS unreachable',
    });
    expect(sync.isCaughtUp()).toBe(false);
    expect(nats.isConnected()).toBe(false);
    expect(() => readiness.bans()).toThrow('NATS unreachable; ban list not caught up');

    await server.start();
    await waitFor(() => sync.isCaughtUp(), { timeoutMs: 20_000, what: 'the sync to catch up' });
    await sync.ready;
    expect(bans.isBanned(userId, Date.now() - 60_000)).toBe(true);
    expect(() => readiness.bans()).not.toThrow();
  });

  it('stops cleanly while NATS has never been reachable', async () => {
    await server.stop();
    const { sync, nats, lines } = startSync();
    await waitFor(() => lines().some((line) => line.msg === 'NATS unreachable; retrying in the background'), {
      timeoutMs: 5_000,
      what: 'the client to report NATS unreachable',
    });
    await sync.stop();
    await nats.close();
    expect(sync.isCaughtUp()).toBe(false);
    // Nothing after the stop may be reported as an error (an unhandled rejection would fail the run).
    expect(lines().filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});

describe('serviceReadiness', () => {
  it('checks the database only for a service that has one', async () => {
    const { sync, nats } = startSync();
    await sync.ready;
    const withDatabase = serviceReadiness({ db: { query: async () => { throw new Error('connection refused'); } }, banSync: sync, nats });
    expect(Object.keys(withDatabase).sort()).toEqual(['bans', 'database']);
    await expect(withDatabase.database!()).rejects.toThrow('connection refused');
    const withoutDatabase = serviceReadiness({ banSync: sync, nats });
    expect(Object.keys(withoutDatabase)).toEqual(['bans']);
    expect(() => withoutDatabase.bans()).not.toThrow();
  });
});

/** The AUTH stream's info, or undefined while there is none. */
async function streamInfo() {
  return (await jetstreamManager(pub)).streams.info(AUTH_STREAM).catch(() => undefined);
}

describe('startBanSync: who makes the stream', () => {
  it('waits, not ready and without making it, while the AUTH stream is missing, and replays it once auth makes it', async () => {
    await (await jetstreamManager(pub)).streams.delete(AUTH_STREAM);
    const { sync, bans, nats, lines } = startSync();
    const readiness = serviceReadiness({ banSync: sync, nats });
    const waiting = 'the AUTH stream does not exist yet; waiting for auth to create it (ban list not caught up)';
    await waitFor(() => lines().some((line) => line.msg === waiting), { what: 'the sync to say it waits' });
    expect(sync.isWaitingForStream()).toBe(true);
    expect(sync.isCaughtUp()).toBe(false);
    expect(() => readiness.bans()).toThrow('waiting for auth to create the AUTH stream');
    // The pass that found it missing made nothing (every later pass is the same).
    expect(await streamInfo()).toBeUndefined();

    // Auth makes it, and publishes a ban: the sync replays it and turns ready.
    await ensureAuthStream(await jetstreamManager(pub), { windowMs: WINDOW_MS });
    const userId = newUser();
    await publishBan(banEvent(userId));
    await sync.ready;
    expect(bans.isBanned(userId, Date.now() - 60_000)).toBe(true);
    expect(sync.isWaitingForStream()).toBe(false);
    expect(() => readiness.bans()).not.toThrow();
    expect(lines().filter((line) => line.msg === waiting)).toHaveLength(1);
  });

  it('makes the stream itself only when it manages it (auth)', async () => {
    await (await jetstreamManager(pub)).streams.delete(AUTH_STREAM);
    const { sync } = startSync({ manageStream: true });
    await sync.ready;
    expect((await streamInfo())?.config.subjects).toEqual([Subjects.All]);
  });

  it('warns once, and changes nothing, when a stream it may not change could lose bans', async () => {
    const jsm = await jetstreamManager(pub);
    const { config } = await jsm.streams.info(AUTH_STREAM);
    await jsm.streams.update(AUTH_STREAM, { ...config, max_msgs: 10 });
    const { sync, lines } = startSync();
    await sync.ready;
    const warnings = lines().filter((line) => String(line.msg).startsWith('the AUTH stream is not as designed'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.shortfalls).toBe('a cap on messages or bytes');
    expect((await streamInfo())!.config.max_msgs).toBe(10);
  });
});

describe('startBanSync: a recreated stream', () => {
  it('replays the new stream from its start instead of resuming at the old sequence', async () => {
    const { sync, bans, lines } = startSync();
    await sync.ready;
    const earlier = [newUser('earlier'), newUser('earlier'), newUser('earlier')];
    for (const userId of earlier) await publishBan(banEvent(userId));
    await waitFor(() => earlier.every((userId) => bans.isBanned(userId, Date.now() - 60_000)), { what: 'the first bans' });

    // The store is lost: the stream is deleted, and auth makes it again, numbering from 1.
    const jsm = await jetstreamManager(pub);
    await jsm.streams.delete(AUTH_STREAM);
    await waitFor(() => sync.isWaitingForStream(), { timeoutMs: 15_000, what: 'the sync to notice the stream is gone' });
    await ensureAuthStream(jsm, { windowMs: WINDOW_MS });
    await waitFor(() => lines().some((line) => line.msg === 'the AUTH stream was recreated; replaying the recent window'), { timeoutMs: 15_000, what: 'the sync to notice' });
    const after = newUser('after');
    await publishBan(banEvent(after));
    await waitFor(() => bans.isBanned(after, Date.now() - 60_000), { timeoutMs: 15_000, what: 'the ban on the new stream' });
  });

  it('makes the stream again at once when it manages it (auth), and replays it from its start', async () => {
    const { sync, bans, lines } = startSync({ manageStream: true });
    await sync.ready;
    const earlier = newUser('earlier');
    await publishBan(banEvent(earlier));
    await waitFor(() => bans.isBanned(earlier, Date.now() - 60_000), { what: 'the first ban' });

    await (await jetstreamManager(pub)).streams.delete(AUTH_STREAM);
    await waitFor(() => lines().some((line) => line.msg === 'the AUTH stream was recreated; replaying the recent window'), { timeoutMs: 15_000, what: 'the sync to make it again' });
    const after = newUser('after');
    await publishBan(banEvent(after));
    await waitFor(() => bans.isBanned(after, Date.now() - 60_000), { timeoutMs: 15_000, what: 'the ban on the new stream' });
  });
});

describe('startBanSync: a consumer disturbed by another client', () => {
  /**
   * Watches the inbox of the sync named `name` as a holder of the same NATS user could: its pull
   * inbox (where heartbeats arrive) and its consumer's name (in each event's reply subject). Each
   * test names its sync apart, so that no consumer an earlier test left is taken for this one.
   */
  async function snoop(name: string) {
    const spy = await connect({ servers: server.url });
    cleanups.push(() => spy.close());
    const seen: { inbox?: string; consumer?: string } = {};
    const sub = spy.subscribe(`_INBOX_${name}.>`);
    void (async () => {
      for await (const msg of sub) {
        if (msg.headers?.code === 100) seen.inbox = msg.subject;
        const ack = /^\$JS\.ACK\.AUTH\.([^.]+)\./.exec(msg.reply ?? '');
        if (ack !== null) seen.consumer = ack[1];
      }
    })();
    await spy.flush();
    return { spy, seen };
  }

  it('starts a fresh consumer after a reset (here, a message from another consumer in its inbox) and misses nothing', async () => {
    const { sync, bans, lines } = startSync({ name: 'reset-victim' });
    await sync.ready;
    const { spy, seen } = await snoop('reset-victim');
    await waitFor(() => seen.inbox, { timeoutMs: 10_000, what: 'a heartbeat in the sync\'s inbox' });
    // Another consumer's message, delivered to the sync's inbox: a gap in its delivery sequence.
    await publishBan(banEvent(newUser()));
    const intruder = await (await jetstreamManager(spy)).consumers.add(AUTH_STREAM, {
      name: `intruder-${randomUUID()}`, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.Last, inactive_threshold: 60e9,
    });
    spy.publish(`$JS.API.CONSUMER.MSG.NEXT.AUTH.${intruder.name}`, JSON.stringify({ batch: 1, no_wait: true }), { reply: seen.inbox });
    await waitFor(() => lines().some((line) => String(line.msg).startsWith('ban sync consumer reset')), { timeoutMs: 10_000, what: 'the sync to see the reset' });
    const after = [newUser(), newUser()];
    for (const userId of after) await publishBan(banEvent(userId));
    await waitFor(() => after.every((userId) => bans.isBanned(userId, Date.now() - 60_000)), { timeoutMs: 15_000, what: 'the bans after the reset' });
  });

  it('consumes again the last events another client pulled from its consumer, and counts it', async () => {
    const { sync, bans, registry, lines } = startSync({ checkIntervalMs: 100, name: 'theft-victim' });
    await sync.ready;
    const { spy, seen } = await snoop('theft-victim');
    await publishBan(banEvent(newUser()));
    await waitFor(() => seen.consumer, { what: 'the sync\'s consumer name' });
    // Long pulls queued on the sync's own consumer: the server shares the next events between them and the sync's.
    const taken = new Set<string>();
    const thief = spy.subscribe('_INBOX_thief.>', {
      callback: (_err, msg) => { if (msg.data.length > 0) taken.add((JSON.parse(msg.string()) as { userId: string }).userId); },
    });
    cleanups.push(async () => thief.unsubscribe());
    for (let i = 0; i < 50; i++) {
      spy.publish(`$JS.API.CONSUMER.MSG.NEXT.AUTH.${seen.consumer}`, JSON.stringify({ batch: 1, expires: 3_600e9 }), { reply: `_INBOX_thief.${i}` });
    }
    await spy.flush();
    // One ban at a time, until the thief takes one: then nothing after it shows the sync a gap.
    let stolen: string | undefined;
    for (let attempt = 0; attempt < 10 && stolen === undefined; attempt++) {
      const userId = newUser();
      await publishBan(banEvent(userId));
      await waitFor(() => taken.has(userId) || bans.isBanned(userId, Date.now() - 60_000), { what: 'the ban to go somewhere' });
      if (taken.has(userId)) stolen = userId;
    }
    expect(stolen, 'the thief took none of 10 bans').toBeDefined();
    await waitFor(() => bans.isBanned(stolen!, Date.now() - 60_000), { timeoutMs: 10_000, what: 'the stolen ban to be consumed again' });
    expect(await metricValue(registry, 'ban_sync_events_taken_total')).toBeGreaterThan(0);
    expect(lines().some((line) => line.level === 50 && String(line.msg).includes('delivered from this sync\'s consumer to someone else'))).toBe(true);
  });
});
