// What a server-rendered page costs beyond the service calls it is made of.
//
//   node bench/client.mjs [--requests 2000] [--rounds 5]
//
// nats-server, auth, orders and the web client as processes (auth and orders on PostgreSQL when
// TEST_DATABASE_URL's server answers, else PGlite), one signed-in user with 10 orders. Cases, each
// a series of sequential requests on kept-alive connections, in interleaved rounds:
//   1. GET auth  /api/users/currentuser   the baseline: the call every page makes
//   2. GET client /                       the home page: currentuser, then the page rendered
//   3. GET orders /api/orders             the orders list alone
//   4. GET client /orders                 the orders page: orders and currentuser at once, then the page
// Reported: the median latency of each case, and the ratios 2 ÷ 1 and 4 ÷ 3 (the median of the
// rounds' paired ratios): what the client adds to the calls it makes.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createTestDatabase, postJson, sessionCookieOf, startNatsServer, TEST_JWT_KEY } from '@ticketing/testing';
import { httpGet, intArgs, machine, median, round, runBench, startService } from './lib.mjs';

const { requests: REQUESTS, rounds: ROUNDS } = intArgs({ requests: 2_000, rounds: 5 });

/** Sequential GETs, each checked; resolves with the median latency in ms. */
async function series(url, headers, agent, expect) {
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const { status, body } = await httpGet(url, { agent, headers });
    times.push(performance.now() - started);
    if (status !== 200 || !expect(body)) throw new Error(`${url}: answered ${status}: ${body.slice(0, 200)}`);
  }
  return median(times);
}

await runBench('client', { deadlineMs: 10 * 60_000 }, async (cleanup) => {
  const nats = await startNatsServer();
  cleanup.add(() => nats.destroy());
  const databases = await Promise.all([createTestDatabase(), createTestDatabase()]);
  for (const db of databases) cleanup.add(() => db.drop());
  const env = { JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url };
  const [auth, orders] = await Promise.all([
    startService('auth', { ...env, DATABASE_URL: databases[0].url }),
    startService('orders', { ...env, DATABASE_URL: databases[1].url }),
  ]);
  cleanup.add(() => auth.stop());
  cleanup.add(() => orders.stop());
  const client = await startService('client', { AUTH_URL: auth.url, ORDERS_URL: orders.url, ANTI_FORGERY_KEY: randomBytes(32).toString('base64url') });
  cleanup.add(() => client.stop());

  const signup = await postJson(`${auth.url}/api/users/signup`, { email: 'bench@example.com', password: 'bench password' });
  if (signup.status !== 201) throw new Error(`signup answered ${signup.status}`);
  const cookie = sessionCookieOf(signup);
  for (let i = 0; i < 10; i++) {
    const res = await postJson(`${orders.url}/api/orders`, { ticketId: `seat-${i}` }, cookie);
    if (res.status !== 201) throw new Error(`an order answered ${res.status}`);
  }
  const headers = { cookie };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  cleanup.add(async () => agent.destroy());
  const cases = {
    currentuser: () => series(`${auth.url}/api/users/currentuser`, headers, agent, (body) => body.includes('bench@example.com')),
    homePage: () => series(`${client.url}/`, headers, agent, (body) => body.includes('id="current-email">bench@example.com')),
    ordersApi: () => series(`${orders.url}/api/orders`, headers, agent, (body) => body.includes('seat-9')),
    ordersPage: () => series(`${client.url}/orders`, headers, agent, (body) => body.includes('seat-9')),
  };
  // A warm-up of every case, then the rounds, each running every case once.
  for (const run of Object.values(cases)) await run();
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const result = {};
    for (const [name, run] of Object.entries(cases)) result[name] = await run();
    rounds.push(result);
    console.log(`round ${round + 1}: ${Object.entries(result).map(([name, ms]) => `${name} ${ms.toFixed(3)} ms`).join(', ')}`);
  }
  const ms = Object.fromEntries(Object.keys(cases).map((name) => [name, round(median(rounds.map((r) => r[name])), 3)]));
  const ratio = {
    homePageOverCurrentuser: round(median(rounds.map((r) => r.homePage / r.currentuser)), 2),
    ordersPageOverOrdersApi: round(median(rounds.map((r) => r.ordersPage / r.ordersApi)), 2),
  };
  console.log(JSON.stringify({ bench: 'client', requests: REQUESTS, rounds: ROUNDS, ms, ratio, machine: machine() }));
});
