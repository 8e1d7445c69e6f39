// Request throughput of whole HTTP stacks, side by side: plain express, express-jwt, passport-jwt,
// our middlewares, our service stack, and option #1 (ask auth on every request).
//
//   node bench/http.mjs [--seconds 2] [--rounds 6] [--connections 50]
//
// Each stack runs in its own process (bench/http-server.mjs), loaded by autocannon from this one
// with --connections kept-alive connections. Rounds are interleaved (every case once, then again),
// and each case's median req/s is reported with its ratio to plain express from the same run;
// the ratios that matter are medians of each round's ratio of two cases run one after the other.
// Every response must be a 2xx: a stack that refused the bench's token would look fast.
// Option #1 needs the built auth service, a private nats-server and a PostgreSQL database.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createTokenKey, createTokenSigner, createTokenSigningKey } from '@ticketing/common/tokens';
import { cookieWithJwt, createEs256KeyPair, createTestDatabase, postJson, sessionCookieOf, startNatsServer } from '@ticketing/testing';
import { intArgs, machine, median, round, runBench, startService, withTimeout } from './lib.mjs';

const { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS } = intArgs({ seconds: 2, rounds: 6, connections: 50 });
const SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url));
const WARMUP_SECONDS = 1;

/** Starts one stack's server process; resolves with its URL once it listens. */
function startStack(stack, env) {
  const child = fork(SERVER, [stack], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const listening = new Promise((resolve, reject) => {
    child.once('message', ({ port }) => resolve(`http://127.0.0.1:${port}`));
    child.once('exit', (code) => reject(new Error(`${stack} server exited with ${code} before listening`)));
  });
  return {
    child,
    url: withTimeout(listening, 60_000, `the ${stack} server to listen`),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}

async function load(url, headers, seconds) {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers of ${result.requests.total}`);
  }
  return { rps: result.requests.total / result.duration, p99Ms: result.latency.p99 };
}

await runBench('http', { deadlineMs: 30 * 60_000 }, async (cleanup) => {
  const jwtKey = randomBytes(48).toString('base64url');
  const pair = createEs256KeyPair();
  const ttlMs = 15 * 60_000;

  // Option #1 asks the real auth service, which looks the user up in its database on every request.
  const nats = await startNatsServer();
  cleanup.add(() => nats.destroy());
  const authDb = await createTestDatabase();
  cleanup.add(() => authDb.drop());
  const auth = await startService('auth', { JWT_KEY: jwtKey, NATS_URL: nats.url, DATABASE_URL: authDb.url, LOG_LEVEL: 'info' });
  cleanup.add(() => auth.stop());
  const signup = await postJson(`${auth.url}/api/users/signup`, { email: 'bench@example.com', password: 'bench user password' });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
  const user = await signup.json();
  const authCookie = sessionCookieOf(signup);

  const hs256 = createTokenSigner({ key: createTokenKey(jwtKey), ttlMs }).sign(user);
  const es256 = createTokenSigner({ key: createTokenSigningKey(pair.privateKeyPem), ttlMs }).sign(user);
  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const cookie = (token) => ({ cookie: cookieWithJwt(token) });

  const env = { BENCH_JWT_KEY: jwtKey, BENCH_ES256_PUBLIC_KEY: pair.publicKeyPem, BENCH_AUTH_URL: auth.url, NODE_ENV: 'production' };
  const stackNames = ['plain', 'express-jwt', 'passport-jwt', 'ours-nocache', 'ours', 'service', 'service-es256', 'ask-auth'];
  const servers = {};
  for (const name of stackNames) {
    servers[name] = startStack(name, env);
    cleanup.add(() => servers[name].stop());
  }
  const urls = Object.fromEntries(await Promise.all(stackNames.map(async (name) => [name, await servers[name].url])));

  /**
   * [id, label, stack, path, headers], in the order they run in a round: the two sides of each
   * ratio below run close together, and each ratio is the median of its rounds' ratios, so the
   * machine's drift over a round (it is large on a shared VM) falls on both sides alike.
   */
  const cases = [
    ['express-jwt', 'express-jwt (KeyObject) + lru-cache ban check, Bearer', 'express-jwt', '/bench', bearer(hs256)],
    ['ours-bearer', 'ours: cookieSession + currentUser + requireAuth, token cache (as services run), Bearer', 'ours', '/bench', bearer(hs256)],
    ['passport-jwt', 'passport-jwt (KeyObject) + lru-cache ban check, Bearer', 'passport-jwt', '/bench', bearer(hs256)],
    ['ours-nocache-bearer', 'the same without the token cache, Bearer', 'ours-nocache', '/bench', bearer(hs256)],
    ['ours-cookie', 'the same with the token cache, cookie', 'ours', '/bench', cookie(hs256)],
    ['plain', 'plain express, one JSON route', 'plain', '/bench', {}],
    ['service-public', 'createServiceApp, public route, no token', 'service', '/api/bench/public', {}],
    ['service-cookie', 'createServiceApp, requireAuth route, HS256 cookie', 'service', '/api/bench/private', cookie(hs256)],
    ['service-bearer', 'createServiceApp, requireAuth route, HS256 Bearer', 'service', '/api/bench/private', bearer(hs256)],
    ['service-es256-public', 'createServiceApp (ES256 keys), public route, no token', 'service-es256', '/api/bench/public', {}],
    ['service-es256-cookie', 'createServiceApp, requireAuth route, ES256 cookie (token cache)', 'service-es256', '/api/bench/private', cookie(es256)],
    ['service-es256-bearer', 'createServiceApp, requireAuth route, ES256 Bearer (token cache)', 'service-es256', '/api/bench/private', bearer(es256)],
    ['ask-auth', 'option #1: ask auth\'s currentuser on every request, cookie', 'ask-auth', '/bench', { cookie: authCookie }],
  ];
  /** Each ratio: [name, numerator case, denominator case]. */
  const RATIOS = [
    ['servicePublicOverPlain', 'service-public', 'plain'],
    ['requireAuthCookie', 'service-cookie', 'service-public'],
    ['requireAuthBearer', 'service-bearer', 'service-public'],
    ['requireAuthEs256Cookie', 'service-es256-cookie', 'service-es256-public'],
    ['requireAuthEs256Bearer', 'service-es256-bearer', 'service-es256-public'],
    ['oursOverExpressJwt', 'ours-bearer', 'express-jwt'],
    ['oursOverPassportJwt', 'ours-bearer', 'passport-jwt'],
    ['oursNoCacheOverExpressJwt', 'ours-nocache-bearer', 'express-jwt'],
    ['serviceOverAskAuth', 'service-cookie', 'ask-auth'],
  ];

  // Each case answers 200 with the user (or null on public routes) before it is timed.
  for (const [id, , stack, path, headers] of cases) {
    const res = await fetch(`${urls[stack]}${path}`, { headers });
    const body = await res.json().catch(() => null);
    const wanted = path.includes('public') || stack === 'plain' ? null : user.id;
    if (res.status !== 200 || body?.id !== wanted) throw new Error(`${id}: ${res.status} ${JSON.stringify(body)}`);
  }

  for (const [, , stack, path, headers] of cases) await load(`${urls[stack]}${path}`, headers, WARMUP_SECONDS);
  const runs = Object.fromEntries(cases.map(([id]) => [id, []]));
  // Every other round in reverse, so that where a case falls in a round (first on its server after
  // another server ran, say) weighs on both sides of a ratio alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const [id, , stack, path, headers] of r % 2 === 0 ? cases : [...cases].reverse()) runs[id].push(await load(`${urls[stack]}${path}`, headers, SECONDS));
  }

  const rps = Object.fromEntries(cases.map(([id]) => [id, median(runs[id].map((run) => run.rps))]));
  const p99 = Object.fromEntries(cases.map(([id]) => [id, median(runs[id].map((run) => run.p99Ms))]));
  const base = rps.plain;
  console.log(`http: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s, medians (ratios: medians of each round's ratio); each stack in its own process`);
  console.log(`  ${'stack'.padEnd(82)} ${'req/s'.padStart(8)} ${'÷ plain'.padStart(8)} ${'p99 ms'.padStart(7)}`);
  for (const [id, label] of cases) {
    console.log(`  ${label.padEnd(82)} ${rps[id].toFixed(0).padStart(8)} ${(rps[id] / base).toFixed(2).padStart(8)} ${String(p99[id]).padStart(7)}`);
  }
  const ratios = Object.fromEntries(RATIOS.map(([name, top, bottom]) => [name, median(runs[top].map((run, r) => run.rps / runs[bottom][r].rps))]));
  const ratiosOfMedians = Object.fromEntries(RATIOS.map(([name, top, bottom]) => [name, rps[top] / rps[bottom]]));
  // How much one case's rounds spread: the noise a ratio has to stand out of.
  const spread = median(cases.map(([id]) => {
    const values = runs[id].map((run) => run.rps);
    return (Math.max(...values) - Math.min(...values)) / median(values);
  }));
  console.log(`  round-to-round spread of a case (median over cases, (max - min) / median): ${(spread * 100).toFixed(0)} %`);
  console.log(`  requireAuth route ÷ public route: HS256 cookie ${ratios.requireAuthCookie.toFixed(3)}, Bearer ${ratios.requireAuthBearer.toFixed(3)}; ES256 cookie ${ratios.requireAuthEs256Cookie.toFixed(3)}, Bearer ${ratios.requireAuthEs256Bearer.toFixed(3)}`);
  console.log(`  ours ÷ express-jwt ${ratios.oursOverExpressJwt.toFixed(2)}, ÷ passport-jwt ${ratios.oursOverPassportJwt.toFixed(2)}; service cookie ÷ option #1 ${ratios.serviceOverAskAuth.toFixed(2)}`);
  console.log(JSON.stringify({
    bench: 'http',
    ok: true,
    connections: CONNECTIONS,
    seconds: SECONDS,
    rounds: ROUNDS,
    reqPerSec: Object.fromEntries(Object.entries(rps).map(([id, v]) => [id, round(v, 0)])),
    p99Ms: p99,
    ratio: Object.fromEntries(Object.entries(ratios).map(([id, v]) => [id, round(v, 3)])),
    ratioOfMedians: Object.fromEntries(Object.entries(ratiosOfMedians).map(([id, v]) => [id, round(v, 3)])),
    roundSpread: round(spread, 3),
    machine: machine(),
  }));
});
