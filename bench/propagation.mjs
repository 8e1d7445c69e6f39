// Ban propagation latency, end to end, with the built services as real processes:
// admin bans a user on auth -> outbox relay -> JetStream -> orders' ban list -> orders answers 403.
//
//   node bench/propagation.mjs [--bans 300] [--load 50]
//
// --load: background traffic, in percent of what each service answers at most while both are
// loaded at once (measured first in the same run): orders' GET /api/orders and auth's
// GET /api/users/currentuser, each from a load process of its own, for the whole of the bans
// (0 for none).
//
// Needs `npx tsc -b` first, nats-server (on the PATH or where package managers put it) and PostgreSQL on 127.0.0.1:5432 (user
// postgres, trust). Everything it starts (nats-server, two services, two databases) is private
// to the run and removed at the end.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createTokenKey, createTokenSigner } from '@ticketing/common';
import { connect } from '@nats-io/transport-node';
import { Subjects } from '@ticketing/common/events';
import { createTestDatabase, postJson, sessionCookieOf, startNatsServer, waitFor } from '@ticketing/testing';
import { capacityOf, httpGet, intArgs, machine, round, roundAll, runBench, startLoad, startService, summarize } from './lib.mjs';

const { bans: N, load: LOAD } = intArgs({ bans: 300, load: 50 }, { zeroAllowed: ['load'] });
const POLL_LIMIT_MS = 10_000;
const ACCESS_TOKEN_TTL_MS = 15 * 60_000;

await runBench('propagation', { deadlineMs: 10 * 60_000 + N * (POLL_LIMIT_MS + 1_000) }, async (cleanup) => {
  const jwtKey = randomBytes(32).toString('hex');
  const adminEmail = 'bench-admin@example.com';

  const nats = await startNatsServer();
  cleanup.add(() => nats.destroy());
  const authDb = await createTestDatabase();
  cleanup.add(() => authDb.drop());
  const ordersDb = await createTestDatabase();
  cleanup.add(() => ordersDb.drop());

  // info: the least level at which a service logs its port; at info they log nothing per request or per ban.
  const common = { JWT_KEY: jwtKey, NATS_URL: nats.url, LOG_LEVEL: 'info' };
  // Started one after the other so each cleanup step is registered as soon as its process exists.
  const auth = await startService('auth', { ...common, DATABASE_URL: authDb.url, ADMIN_EMAILS: adminEmail, AUTH_RATE_LIMIT: '100' });
  cleanup.add(() => auth.stop());
  const orders = await startService('orders', { ...common, DATABASE_URL: ordersDb.url });
  cleanup.add(() => orders.stop());

  // The admin signs up through the API (the only scrypt hash of the run).
  const signup = await postJson(`${auth.url}/api/users/signup`, { email: adminEmail, password: 'bench-admin-password' });
  const admin = await signup.json();
  if (signup.status !== 201 || admin.role !== 'admin') throw new Error(`admin signup: ${signup.status} ${JSON.stringify(admin)}`);
  const adminCookie = sessionCookieOf(signup);

  // Bench setup only: N users straight into auth's database, reusing the admin's hash.
  const db = new pg.Client({ connectionString: authDb.url });
  await db.connect();
  cleanup.add(() => db.end());
  const { rows: [{ password_hash: hash }] } = await db.query('SELECT password_hash FROM users WHERE id = $1', [admin.id]);
  const emails = Array.from({ length: N }, (_, i) => `bench-user-${i}@example.com`);
  const { rows: users } = await db.query(
    `INSERT INTO users (email, password_hash, role) SELECT e, $2, 'user' FROM unnest($1::text[]) AS e RETURNING id, email, role`,
    [emails, hash],
  );
  if (users.length !== N) throw new Error(`inserted ${users.length} users, wanted ${N}`);
  const { rows: [background] } = await db.query(
    `INSERT INTO users (email, password_hash, role) VALUES ('bench-background@example.com', $1, 'user') RETURNING id, email, role`,
    [hash],
  );
  const signer = createTokenSigner({ key: createTokenKey(jwtKey), ttlMs: ACCESS_TOKEN_TTL_MS });
  for (const user of users) user.token = signer.sign(user);
  const backgroundHeaders = { authorization: `Bearer ${signer.sign(background)}` };

  // Plain node:http over kept-alive connections: less client overhead per request than fetch.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  cleanup.add(() => agent.destroy());
  const listOrders = (token) => httpGet(`${orders.url}/api/orders`, { agent, headers: { authorization: `Bearer ${token}` } });

  // Every token works on orders before any ban (also warms up both processes and the connections).
  for (const user of users) {
    const { status, body } = await listOrders(user.token);
    if (status !== 200) throw new Error(`user ${user.id} got ${status} before its ban: ${body}`);
  }

  // Background traffic at LOAD% of each service's measured capacity, for the baseline and the bans.
  const targets = { orders: `${orders.url}/api/orders`, auth: `${auth.url}/api/users/currentuser` };
  const capacity = {};
  const loads = {};
  if (LOAD > 0) {
    // Both at once, as the background will run: they share the machine's cores (and PostgreSQL, NATS).
    const measured = await Promise.all(Object.values(targets).map((url) => capacityOf(url, backgroundHeaders)));
    Object.keys(targets).forEach((name, i) => { capacity[name] = measured[i]; });
    for (const [name, url] of Object.entries(targets)) {
      loads[name] = await startLoad({ url, connections: 16, overallRate: Math.max(1, Math.round((capacity[name] * LOAD) / 100)), duration: 3_600, headers: backgroundHeaders });
      cleanup.add(() => loads[name].kill());
    }
  }

  // Baseline, same run, same client: a plain authenticated GET /api/orders round trip.
  const roundTrips = [];
  for (let i = 0; i < N; i++) {
    const token = users[i % N].token;
    const t = performance.now();
    const { status } = await listOrders(token);
    roundTrips.push(performance.now() - t);
    if (status !== 200) throw new Error(`baseline request got ${status}`);
  }

  // Where the time goes: a plain subscriber sees each ban event when the stream takes it (tp),
  // which splits "after the answer" into auth's relay (tp - t1) and delivery to orders and its answer.
  const watcher = await connect({ servers: nats.url, name: 'bench-watcher' });
  cleanup.add(() => watcher.close());
  const publishedAt = new Map();
  watcher.subscribe(Subjects.UserBanned, {
    callback: (err, msg) => {
      if (err) return;
      publishedAt.set(JSON.parse(new TextDecoder().decode(msg.data)).userId, performance.now());
    },
  });
  await watcher.flush();

  // One ban at a time: t0 before the ban request, t1 when it answered, t2 the first 403 from orders.
  const relayDelay = [];
  const fromRequest = [];
  const fromAnswer = [];
  const banRequest = [];
  const pollsPerBan = [];
  const missed = [];
  for (const user of users) {
    const t0 = performance.now();
    const res = await postJson(`${auth.url}/api/admin/users/${user.id}/ban`, { reason: 'bench' }, adminCookie);
    const body = await res.json();
    const t1 = performance.now();
    if (res.status !== 200 || body.banned !== true) throw new Error(`ban of ${user.id}: ${res.status} ${JSON.stringify(body)}`);
    // One request at a time, back to back: more at once load orders enough to slow what they measure.
    let t2;
    let polls = 0;
    while (performance.now() - t1 < POLL_LIMIT_MS) {
      polls++;
      const { status, body: answer } = await listOrders(user.token);
      if (status === 403) {
        t2 = performance.now();
        if (!answer.includes('User is banned')) throw new Error(`403 without "User is banned": ${answer}`);
        break;
      }
      if (status !== 200) throw new Error(`orders answered ${status} while waiting for the ban: ${answer}`);
    }
    pollsPerBan.push(polls);
    banRequest.push(t1 - t0);
    if (t2 === undefined) {
      missed.push(user.id);
      continue;
    }
    fromRequest.push(t2 - t0);
    fromAnswer.push(t2 - t1);
    const tp = publishedAt.get(user.id);
    if (tp !== undefined) relayDelay.push(tp - t1);
  }

  const backgroundDone = {};
  for (const [name, load] of Object.entries(loads)) backgroundDone[name] = await load.stop();

  // Cross-check with the services' own view: every ban was published and applied once.
  const metric = async (service, name) => {
    const text = await (await fetch(`${service.metricsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const published = await waitFor(async () => ((await metric(auth, 'outbox_published_total')) === N ? N : 0), { timeoutMs: 10_000, what: 'auth to report every event published' })
    .catch(() => undefined);
  const banListSize = await metric(orders, 'ban_list_size');
  // Anything the services logged at warn (pino level 40) or above, or outside their JSON log, is worth a look.
  const worthALook = (line) => {
    try {
      const { level } = JSON.parse(line);
      return typeof level !== 'number' || level >= 40;
    } catch {
      return true;
    }
  };
  const logged = (service) => service.output().split('\n').filter((line) => line.trim() !== '' && worthALook(line));
  const serviceLog = { auth: logged(auth), orders: logged(orders) };

  const rtt = summarize(roundTrips);
  const total = summarize(fromRequest);
  const after = summarize(fromAnswer);
  const relay = summarize(relayDelay);
  const req = summarize(banRequest);
  const polls = summarize(pollsPerBan);
  const ms = (s) => `p50 ${s.p50.toFixed(2)}  p90 ${s.p90.toFixed(2)}  p99 ${s.p99.toFixed(2)}  max ${s.max.toFixed(2)} ms`;
  console.log(`propagation: ${N} bans, one at a time (auth + orders processes, private nats-server, PostgreSQL)`);
  console.log(`  ban request -> refused everywhere (t2-t0): ${ms(total)}`);
  console.log(`  after the ban answered          (t2-t1): ${ms(after)}`);
  console.log(`  ban request itself               (t1-t0): ${ms(req)}`);
  console.log(`  answer -> event on NATS, auth's relay (tp-t1): ${ms(relay)} (${relay.n} seen)`);
  console.log(`  polls per ban until 403: p50 ${polls.p50}  max ${polls.max}`);
  console.log(`  baseline GET /api/orders round trip (${rtt.n}): p50 ${rtt.p50.toFixed(2)}  p99 ${rtt.p99.toFixed(2)} ms`);
  console.log(`  ratio p50 propagation / p50 round trip: ${(total.p50 / rtt.p50).toFixed(1)}x (t2-t0), ${(after.p50 / rtt.p50).toFixed(1)}x (t2-t1)`);
  console.log(`  check: outbox_published_total ${published ?? 'NOT ' + N}, orders ban_list_size ${banListSize}, missed ${missed.length}`);
  for (const [name, done] of Object.entries(backgroundDone)) {
    console.log(`  background on ${name}: ${done.rps.toFixed(0)} req/s (${LOAD}% of the ${capacity[name].toFixed(0)} it answers at most beside the other), p99 ${done.p99Ms} ms, ${done.non2xx} non-2xx, ${done.errors} errors`);
  }
  console.log(`  warn/error log lines: auth ${serviceLog.auth.length}, orders ${serviceLog.orders.length}`);
  for (const [name, lines] of Object.entries(serviceLog)) for (const line of lines.slice(0, 5)) console.log(`    ${name}: ${line.slice(0, 300)}`);

  const backgroundClean = Object.values(backgroundDone).every((done) => done.non2xx === 0 && done.errors === 0);
  const ok = missed.length === 0 && published === N && banListSize === N && backgroundClean;
  console.log(JSON.stringify({
    bench: 'propagation',
    ok,
    bans: N,
    ms: {
      banToRefused: roundAll(total, 3),
      afterBanAnswered: roundAll(after, 3),
      banRequest: roundAll(req, 3),
      answerToPublished: roundAll(relay, 3),
      baselineRoundTrip: roundAll(rtt, 3),
    },
    ratio: { p50BanToRefusedOverRoundTrip: round(total.p50 / rtt.p50, 2), p50AfterAnsweredOverRoundTrip: round(after.p50 / rtt.p50, 2) },
    pollsPerBan: { p50: polls.p50, max: polls.max },
    missed: missed.length,
    load: LOAD,
    background: Object.fromEntries(Object.entries(backgroundDone).map(([name, done]) => [name, { capacityRps: round(capacity[name], 0), rps: round(done.rps, 0), p99Ms: done.p99Ms, non2xx: done.non2xx, errors: done.errors }])),
    serviceLogLines: { auth: serviceLog.auth.length, orders: serviceLog.orders.length },
    machine: machine(),
  }));
  if (!ok) throw new Error(`${missed.length} bans not refused within ${POLL_LIMIT_MS} ms, published ${published}, ban_list_size ${banListSize}, background clean ${backgroundClean}`);
});
