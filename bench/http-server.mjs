// One server of bench/http.mjs, in its own process: `node bench/http-server.mjs <stack>`.
// It listens on a free port and sends `{ port }` to its parent over IPC. Configuration comes from
// the environment the parent sets: BENCH_JWT_KEY (HS256 secret), BENCH_ES256_PUBLIC_KEY (PEM),
// BENCH_BANS (ids of banned users, prefilled into every ban check, so lookups are not in an empty
// map), BENCH_AUTH_URL (option #1's auth service). Every authenticated stack answers the same JSON.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import express from 'express';
import cookieSession from 'cookie-session';
import { LRUCache } from 'lru-cache';
import { expressjwt } from 'express-jwt';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { BanList } from '@ticketing/common/bans';
import { createMetrics, createServiceApp, currentUser, requireAuth, signedInUser } from '@ticketing/common/http';
import { createLogger, createServiceTokenVerifier } from '@ticketing/common/runtime';
import { createTokenKey, createTokenPublicKeys } from '@ticketing/common/tokens';
import { httpGet } from './lib.mjs';

const stack = process.argv[2];
const secret = process.env.BENCH_JWT_KEY;
const key = createTokenKey(secret);
const TTL_MS = 15 * 60_000;
const SKEW_MS = 30_000;
const BANS = Number(process.env.BENCH_BANS ?? 100_000);

/** The ban lists of the stacks: ours, and a plain lru-cache for the others, each holding BANS entries. */
function ourBans() {
  const bans = new BanList({ max: BANS + 1_000, windowMs: TTL_MS + SKEW_MS, logger: createLogger({ service: 'bench', level: 'silent' }) });
  const bannedAt = new Date();
  for (let i = 0; i < BANS; i++) bans.ban({ userId: randomUUID(), bannedAt, version: 1 });
  return bans;
}
function plainBans() {
  const bans = new LRUCache({ max: BANS + 1_000, ttl: TTL_MS + SKEW_MS });
  const bannedAtMs = Date.now();
  for (let i = 0; i < BANS; i++) bans.set(randomUUID(), bannedAtMs);
  return bans;
}
const answer = (id) => ({ id, orders: [] });

function verifierConfig(alg) {
  const tokenKeys = alg === 'ES256' ? { publicKeys: createTokenPublicKeys(process.env.BENCH_ES256_PUBLIC_KEY) } : { key };
  return { tokenKeys, accessTokenTtlMs: TTL_MS, clockSkewMs: SKEW_MS, tokenCacheMax: 10_000 };
}

/** Our service stack, as every service builds it, around a public route and a `requireAuth` one. */
function serviceApp(alg) {
  const bans = ourBans();
  const router = express.Router();
  router.get('/api/bench/public', (_req, res) => { res.json(answer(null)); });
  router.get('/api/bench/private', requireAuth({ bans }), (req, res) => { res.json(answer(signedInUser(req).id)); });
  return createServiceApp({
    production: false,
    logger: createLogger({ service: 'bench', level: process.env.BENCH_LOG_LEVEL ?? 'info' }),
    metrics: createMetrics({ service: 'bench' }),
    verifier: createServiceTokenVerifier(verifierConfig(alg)),
    readiness: { ready: () => true },
    routes: router,
  });
}

const stacks = {
  plain() {
    const app = express();
    app.get('/bench', (_req, res) => { res.json(answer(null)); });
    return app;
  },
  ours({ cache = true } = {}) {
    const bans = ourBans();
    const logger = createLogger({ service: 'bench', level: 'silent' });
    const app = express();
    app.use(cookieSession({ name: 'session', signed: false, httpOnly: true, sameSite: 'lax' }));
    app.use(currentUser({ verifier: createServiceTokenVerifier({ ...verifierConfig('HS256'), tokenCacheMax: cache ? 10_000 : 0 }), logger }));
    app.get('/bench', requireAuth({ bans }), (req, res) => { res.json(answer(signedInUser(req).id)); });
    app.use((err, _req, res, _next) => { res.status(err.statusCode ?? 500).json({ errors: [{ message: err.message }] }); });
    return app;
  },
  'ours-nocache'() {
    return stacks.ours({ cache: false });
  },
  'express-jwt'() {
    const bans = plainBans();
    const app = express();
    app.get('/bench', expressjwt({ secret: key, algorithms: ['HS256'] }), (req, res, next) => {
      const bannedAtMs = bans.get(req.auth.id);
      if (bannedAtMs !== undefined && req.auth.iat * 1000 <= bannedAtMs) return next(Object.assign(new Error('User is banned'), { status: 403 }));
      res.json(answer(req.auth.id));
    });
    app.use((err, _req, res, _next) => { res.status(err.status ?? 500).json({ errors: [{ message: err.message }] }); });
    return app;
  },
  'passport-jwt'() {
    const bans = plainBans();
    passport.use(new JwtStrategy({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: key, algorithms: ['HS256'] }, (claims, done) => {
      const bannedAtMs = bans.get(claims.id);
      done(null, bannedAtMs !== undefined && claims.iat * 1000 <= bannedAtMs ? false : claims);
    }));
    const app = express();
    app.use(passport.initialize());
    app.get('/bench', passport.authenticate('jwt', { session: false }), (req, res) => { res.json(answer(req.user.id)); });
    return app;
  },
  service() {
    return serviceApp('HS256');
  },
  'service-es256'() {
    return serviceApp('ES256');
  },
  // Option #1: every request asks auth's currentuser (over kept-alive connections) who the caller is.
  'ask-auth'() {
    const authUrl = new URL('/api/users/currentuser', process.env.BENCH_AUTH_URL);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const askAuth = async (req) => {
      const headers = {};
      if (req.headers.cookie !== undefined) headers.cookie = req.headers.cookie;
      if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
      const { status, body } = await httpGet(authUrl, { agent, headers });
      return status === 200 ? JSON.parse(body).currentUser : null;
    };
    const app = express();
    app.get('/bench', async (req, res) => {
      const user = await askAuth(req);
      if (user === null) {
        res.status(401).json({ errors: [{ message: 'Not authenticated' }] });
        return;
      }
      res.json(answer(user.id));
    });
    app.use((err, _req, res, _next) => { res.status(502).json({ errors: [{ message: err.message }] }); });
    return app;
  },
};

const build = stacks[stack];
if (build === undefined) {
  console.error(`http-server: unknown stack ${JSON.stringify(stack)}; one of ${Object.keys(stacks).join(', ')}`);
  process.exit(2);
}
const server = http.createServer({ keepAliveTimeout: 60_000 }, build());
// CPU time per request is what a stack costs, whatever else the machine is doing: the parent asks
// for this process's CPU time and requests served before and after each load.
let served = 0;
server.on('request', () => { served++; });
process.on('message', (message) => {
  if (message === 'usage') process.send({ usage: { cpuMicros: process.cpuUsage().user + process.cpuUsage().system, served } });
});
server.listen(0, '127.0.0.1', () => { process.send({ port: server.address().port }); });
process.on('disconnect', () => process.exit(0));
