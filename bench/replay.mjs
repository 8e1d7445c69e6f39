// Startup replay: how long a new replica's ban sync takes to catch up with M ban events, against
// reading the same M messages with a bare ordered consumer (no parsing, no ban list).
//
//   node bench/replay.mjs [--events 10000] [--rounds 3]
//
// Needs `npx tsc -b` first and nats-server (on the PATH or where package managers put it). Runs in-process against a private
// nats-server, removed at the end.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  AUTH_STREAM, Subjects, connectNats, encodeEvent, ensureAuthStream, startServiceBanSync,
} from '@ticketing/common';
import { silentLogger, startNatsServer } from '@ticketing/testing';
import { intArgs, machine, median, round, runBench, withTimeout } from './lib.mjs';

const { events: M, rounds: ROUNDS } = intArgs({ events: 10_000, rounds: 3 });
const config = { banCacheMax: 100_000, accessTokenTtlMs: 900_000, clockSkewMs: 30_000 };
const windowMs = config.accessTokenTtlMs + config.clockSkewMs;
const BATCH = 500;
const READ_LIMIT_MS = 120_000;

await runBench('replay', { deadlineMs: 15 * 60_000 }, async (cleanup) => {
  if (M > config.banCacheMax) throw new TypeError(`--events must be at most banCacheMax (${config.banCacheMax})`);
  const logger = silentLogger();
  const server = await startNatsServer();
  cleanup.add(() => server.destroy());

  // A fresh client per measurement; each is closed right after it (and at cleanup if a step threw).
  const open = new Set();
  cleanup.add(() => Promise.all([...open].map((client) => client.close())));
  const connect = async (name) => {
    const client = connectNats({ url: server.url, name, logger, retryDelayMs: 100 });
    open.add(client);
    const nc = await withTimeout(client.connection(), 15_000, 'a NATS connection');
    return {
      client,
      nc,
      close: async () => {
        open.delete(client);
        await client.close();
      },
    };
  };

  // Publish M distinct bans, as the auth relay would: payload per the contract, msgID = event id.
  const setup = await connect('bench-publisher');
  await ensureAuthStream(await jetstreamManager(setup.nc), { windowMs });
  const js = jetstream(setup.nc, { timeout: 10_000 });
  const userIds = [];
  const bannedAtMs = Date.now();
  const publishStart = performance.now();
  for (let start = 0; start < M; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(M, start + BATCH); i++) {
      const userId = randomUUID();
      userIds.push(userId);
      const id = randomUUID();
      const payload = { id, userId, bannedAt: new Date(bannedAtMs).toISOString(), reason: 'bench', version: 1 };
      batch.push(js.publish(Subjects.UserBanned, encodeEvent(payload), { msgID: id }));
    }
    const acks = await Promise.all(batch);
    if (acks.some((ack) => ack.duplicate)) throw new Error('the stream dropped an event as a duplicate');
  }
  const publishMs = performance.now() - publishStart;
  const stream = await (await jetstreamManager(setup.nc)).streams.info(AUTH_STREAM);
  if (stream.state.messages !== M) throw new Error(`stream holds ${stream.state.messages} messages, wanted ${M}`);
  await setup.close();

  /** Baseline: a bare ordered consumer on the same filter and pull size as ban sync, reading every message without parsing it. */
  async function bareRead() {
    const { nc, close } = await connect('bench-bare');
    try {
      const t0 = performance.now();
      const consumer = await jetstream(nc).consumers.get(AUTH_STREAM, { filter_subjects: Subjects.UserEvents });
      const messages = await consumer.consume({ max_messages: 4_096, expires: 5_000 });
      const guard = setTimeout(() => messages.stop(), READ_LIMIT_MS);
      let count = 0;
      try {
        for await (const msg of messages) {
          count++;
          if (msg.info.pending === 0) break;
        }
      } finally {
        clearTimeout(guard);
        messages.stop();
      }
      const ms = performance.now() - t0;
      if (count !== M) throw new Error(`bare consumer read ${count} messages, wanted ${M}`);
      return ms;
    } finally {
      await close();
    }
  }

  /** The service path: startServiceBanSync until `ready`, then check the ban list. */
  async function banSyncReplay() {
    const { client, close } = await connect('bench-ban-sync');
    let sync;
    try {
      const t0 = performance.now();
      sync = startServiceBanSync({ config, nats: client, logger });
      await withTimeout(sync.ready, READ_LIMIT_MS, 'ban sync to catch up');
      const ms = performance.now() - t0;
      const { bans } = sync;
      if (bans.size !== M) throw new Error(`ban list holds ${bans.size} entries, wanted ${M}`);
      const step = Math.max(1, Math.floor(M / 100));
      for (let i = 0; i < M; i += step) {
        if (!bans.isBanned(userIds[i], bannedAtMs - 1_000)) throw new Error(`user ${i} is not banned after the replay`);
      }
      if (bans.isBanned(randomUUID(), bannedAtMs - 1_000)) throw new Error('a user never banned is banned');
      return ms;
    } finally {
      await sync?.stop();
      await close();
    }
  }

  // Interleaved, so drift in the machine's load hits both alike.
  const bare = [];
  const sync = [];
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await bareRead());
    sync.push(await banSyncReplay());
  }

  const bareMs = median(bare);
  const syncMs = median(sync);
  const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(`replay: ${M} auth.user.banned events (private nats-server, file storage), ${ROUNDS} rounds, fresh connection each`);
  console.log(`  publish (batches of ${BATCH}): ${publishMs.toFixed(0)} ms`);
  console.log(`  bare ordered consumer read:   median ${bareMs.toFixed(1)} ms  (${fmt(bare)})  ${Math.round(M / (bareMs / 1000))} msg/s`);
  console.log(`  startServiceBanSync -> ready: median ${syncMs.toFixed(1)} ms  (${fmt(sync)})  ${Math.round(M / (syncMs / 1000))} events/s`);
  console.log(`  ratio ban sync / bare read: ${(syncMs / bareMs).toFixed(2)}x; ban list held all ${M}, sample isBanned ok`);
  console.log(JSON.stringify({
    bench: 'replay',
    ok: true,
    events: M,
    rounds: ROUNDS,
    ms: {
      publish: round(publishMs, 1),
      bareReadMedian: round(bareMs, 1),
      banSyncReadyMedian: round(syncMs, 1),
      bareRead: bare.map((x) => round(x, 1)),
      banSyncReady: sync.map((x) => round(x, 1)),
    },
    perSecond: { bareRead: Math.round(M / (bareMs / 1000)), banSync: Math.round(M / (syncMs / 1000)) },
    ratio: { banSyncOverBareRead: round(syncMs / bareMs, 2) },
    machine: machine(),
  }));
});
