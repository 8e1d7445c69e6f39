// Token verification throughput, in one process: what every request to every service pays.
//
//   node bench/verify.mjs [--ms 1000] [--rounds 3]
//
// Cases (same HS256 token):
//   1. jwt.verify(token, secretString, { algorithms: ['HS256'] })   the baseline
//   2. jwt.verify(token, keyObject,    { algorithms: ['HS256'] })
//   3. createTokenVerifier({ key, ... }).verify(token)              what currentUser runs
//   4. case 3 + BanList.isBanned with 100 000 entries                 what currentUser + requireAuth run
// Each case runs time-bounded (~--ms after a warm-up), in interleaved rounds; the median is reported.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import jwt from 'jsonwebtoken';
import { BanList, createTokenKey, createTokenSigner, createTokenVerifier } from '@ticketing/common';
import { silentLogger, TEST_JWT_KEY } from '@ticketing/testing';
import { intArgs, machine, median, round, runBench } from './lib.mjs';

const { ms: RUN_MS, rounds: ROUNDS } = intArgs({ ms: 1_000, rounds: 3 });
const WARMUP_MS = 300;
const CHUNK = 200;
const MAX_OPS = 50_000_000;
const BANS = 100_000;

await runBench('verify', { deadlineMs: 5 * 60_000 }, async () => {
  const secret = TEST_JWT_KEY;
  const key = createTokenKey(secret);
  const ttlMs = 15 * 60_000;
  const user = { id: randomUUID(), email: 'bench@example.com', role: 'user' };
  const token = createTokenSigner({ key, ttlMs }).sign(user);
  const verifier = createTokenVerifier({ key, maxLifetimeMs: ttlMs, clockToleranceMs: 30_000 });
  const bans = new BanList({ max: BANS, windowMs: ttlMs + 30_000, logger: silentLogger() });
  const bannedAt = new Date();
  for (let i = 0; i < BANS; i++) bans.ban({ userId: randomUUID(), bannedAt, version: 1 });
  if (bans.size !== BANS) throw new Error(`ban list holds ${bans.size}, wanted ${BANS}`);
  // The caller is not banned (the common case); also check a banned one is caught, so the lookup is real.
  const bannedUser = { ...user, id: randomUUID() };
  bans.ban({ userId: bannedUser.id, bannedAt: new Date(Date.now() + 1_000), version: 1 });
  const bannedToken = createTokenSigner({ key, ttlMs }).sign(bannedUser);

  const cases = {
    'jwt.verify, string secret': () => jwt.verify(token, secret, { algorithms: ['HS256'] }).id,
    'jwt.verify, KeyObject': () => jwt.verify(token, key, { algorithms: ['HS256'] }).id,
    'createTokenVerifier().verify': () => verifier.verify(token).id,
    'verify + BanList.isBanned (100k)': () => {
      const claims = verifier.verify(token);
      if (bans.isBanned(claims.id, claims.iat * 1000)) throw new Error('not banned user reported banned');
      return claims.id;
    },
  };
  for (const [name, fn] of Object.entries(cases)) if (fn() !== user.id) throw new Error(`${name} returned the wrong user`);
  {
    const claims = verifier.verify(bannedToken);
    if (!bans.isBanned(claims.id, claims.iat * 1000)) throw new Error('a banned user is not reported banned');
  }

  /** Calls fn until `ms` passes (checking the clock every CHUNK calls) or MAX_OPS; ops/s. */
  function measure(fn, ms) {
    let ops = 0;
    let sink = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ms && ops < MAX_OPS) {
      for (let i = 0; i < CHUNK; i++) sink += fn().length;
      ops += CHUNK;
      elapsed = performance.now() - start;
    }
    if (sink !== ops * user.id.length) throw new Error('unexpected result');
    return ops / (elapsed / 1000);
  }

  for (const fn of Object.values(cases)) measure(fn, WARMUP_MS);
  const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(cases)) results[name].push(measure(fn, RUN_MS));
  }

  const names = Object.keys(cases);
  const baseline = median(results[names[0]]);
  const rows = names.map((name) => {
    const opsPerSec = median(results[name]);
    return { name, opsPerSec: Math.round(opsPerSec), usPerOp: round(1e6 / opsPerSec, 3), vsStringSecret: round(opsPerSec / baseline, 2), rounds: results[name].map(Math.round) };
  });
  console.log(`verify: HS256 token, ${ROUNDS} interleaved rounds of ~${RUN_MS} ms per case after ${WARMUP_MS} ms warm-up (median)`);
  for (const row of rows) {
    console.log(`  ${row.name.padEnd(34)} ${String(row.opsPerSec).padStart(9)} ops/s  ${row.usPerOp.toFixed(2).padStart(7)} us/op  ${row.vsStringSecret.toFixed(2)}x string secret`);
  }
  console.log(JSON.stringify({ bench: 'verify', ok: true, runMs: RUN_MS, rounds: ROUNDS, banListEntries: bans.size, cases: rows, machine: machine() }));
});
