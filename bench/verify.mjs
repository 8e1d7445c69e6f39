// Token verification throughput, in one process: what every request to every service pays.
//
//   node bench/verify.mjs [--ms 1000] [--rounds 3]
//
// Cases (the same user's token, HS256 or ES256):
//   1. jwt.verify(token, secretString, { algorithms: ['HS256'] })   the baseline
//   2. jwt.verify(token, keyObject,    { algorithms: ['HS256'] })
//   3. createTokenVerifier({ key }).verify(token)                   what currentUser runs for HS256
//   4. case 3 + BanList.isBanned with 100 000 entries                 what currentUser + requireAuth run
//   5. jwt.verify(token, publicKeyObject, { algorithms: ['ES256'] })
//   6. createTokenVerifier({ publicKeys }).verify(token)             ES256, the key found by kid
//   7. case 6 behind cacheVerifiedTokens, 10 000 tokens in turn      what a service runs for ES256
//   8. case 7 + BanList.isBanned with 100 000 entries
//   9. case 3 behind cacheVerifiedTokens, 10 000 tokens in turn
// Every case gets its token as a fresh string decoded from bytes, as a request's header is, so a
// cache lookup pays for hashing it. Each case runs time-bounded (~--ms after a warm-up), in
// interleaved rounds; the median is reported, with ratios to case 1 and to case 3.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import jwt from 'jsonwebtoken';
import { BanList } from '@ticketing/common/bans';
import {
  cacheVerifiedTokens, createTokenKey, createTokenPublicKeys, createTokenSigner, createTokenSigningKey, createTokenVerifier,
} from '@ticketing/common/tokens';
import { createEs256KeyPair, silentLogger, TEST_JWT_KEY } from '@ticketing/testing';
import { intArgs, machine, median, round, runBench } from './lib.mjs';

const { ms: RUN_MS, rounds: ROUNDS } = intArgs({ ms: 1_000, rounds: 3 });
const WARMUP_MS = 300;
const CHUNK = 200;
const MAX_OPS = 50_000_000;
const BANS = 100_000;
/** Distinct tokens the cached cases cycle through: the default TOKEN_CACHE_MAX, so each is a hit. */
const CACHED_TOKENS = 10_000;

await runBench('verify', { deadlineMs: 5 * 60_000 }, async () => {
  const secret = TEST_JWT_KEY;
  const key = createTokenKey(secret);
  const pair = createEs256KeyPair();
  const publicKeys = createTokenPublicKeys(pair.publicKeyPem);
  const ttlMs = 15 * 60_000;
  const user = { id: randomUUID(), email: 'bench@example.com', role: 'user' };
  const hs256Signer = createTokenSigner({ key, ttlMs });
  const es256Signer = createTokenSigner({ key: createTokenSigningKey(pair.privateKeyPem), ttlMs });
  const verifier = createTokenVerifier({ key, maxLifetimeMs: ttlMs, clockToleranceMs: 30_000 });
  const es256Verifier = createTokenVerifier({ publicKeys, maxLifetimeMs: ttlMs, clockToleranceMs: 30_000 });
  const es256Cached = cacheVerifiedTokens(es256Verifier, { max: CACHED_TOKENS });
  const hs256Cached = cacheVerifiedTokens(verifier, { max: CACHED_TOKENS });
  const bans = new BanList({ max: BANS, windowMs: ttlMs + 30_000, logger: silentLogger() });
  const bannedAt = new Date();
  for (let i = 0; i < BANS; i++) bans.ban({ userId: randomUUID(), bannedAt, version: 1 });
  if (bans.size !== BANS) throw new Error(`ban list holds ${bans.size}, wanted ${BANS}`);
  // The caller is not banned (the common case); also check a banned one is caught, so the lookup is real.
  const bannedUser = { ...user, id: randomUUID() };
  bans.ban({ userId: bannedUser.id, bannedAt: new Date(Date.now() + 1_000), version: 1 });
  const bannedToken = hs256Signer.sign(bannedUser);

  // Tokens as bytes, decoded afresh on every call. The cached cases cycle through the tokens of
  // CACHED_TOKENS users (the first is `user`), the others use the first.
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const users = [user, ...Array.from({ length: CACHED_TOKENS - 1 }, (_, i) => ({ ...user, id: randomUUID(), email: `bench${i}@example.com` }))];
  const ids = new Set(users.map((u) => u.id));
  const tokensOf = (signer) => users.map((u) => encoder.encode(signer.sign(u)));
  const hs256Tokens = tokensOf(hs256Signer);
  const es256Tokens = tokensOf(es256Signer);
  let next = 0;
  const one = (tokens) => decoder.decode(tokens[0]);
  const each = (tokens) => decoder.decode(tokens[(next = (next + 1) % CACHED_TOKENS)]);
  const checked = (claims) => {
    if (bans.isBanned(claims.id, claims.iat * 1000)) throw new Error('not banned user reported banned');
    return claims.id;
  };

  const cases = {
    'HS256 jwt.verify, string secret': () => jwt.verify(one(hs256Tokens), secret, { algorithms: ['HS256'] }).id,
    'HS256 jwt.verify, KeyObject': () => jwt.verify(one(hs256Tokens), key, { algorithms: ['HS256'] }).id,
    'HS256 createTokenVerifier': () => verifier.verify(one(hs256Tokens)).id,
    'HS256 verifier + ban check (100k)': () => checked(verifier.verify(one(hs256Tokens))),
    'ES256 jwt.verify, KeyObject': () => jwt.verify(one(es256Tokens), publicKeys[0], { algorithms: ['ES256'] }).id,
    'ES256 createTokenVerifier': () => es256Verifier.verify(one(es256Tokens)).id,
    'ES256 verifier + token cache': () => es256Cached.verify(each(es256Tokens)).id,
    'ES256 cache + ban check (100k)': () => checked(es256Cached.verify(each(es256Tokens))),
    'HS256 verifier + token cache': () => hs256Cached.verify(each(hs256Tokens)).id,
  };
  for (const [name, fn] of Object.entries(cases)) {
    const id = fn();
    if (name.includes('cache') ? !ids.has(id) : id !== user.id) throw new Error(`${name} returned the wrong user`);
  }
  {
    const claims = verifier.verify(bannedToken);
    if (!bans.isBanned(claims.id, claims.iat * 1000)) throw new Error('a banned user is not reported banned');
  }
  // Fill both caches, so the cached cases measure hits.
  for (let i = 0; i < CACHED_TOKENS; i++) {
    es256Cached.verify(decoder.decode(es256Tokens[i]));
    hs256Cached.verify(decoder.decode(hs256Tokens[i]));
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
  const hs256 = median(results['HS256 createTokenVerifier']);
  const rows = names.map((name) => {
    const opsPerSec = median(results[name]);
    return {
      name,
      opsPerSec: Math.round(opsPerSec),
      usPerOp: round(1e6 / opsPerSec, 3),
      vsStringSecret: round(opsPerSec / baseline, 2),
      vsHs256Verifier: round(opsPerSec / hs256, 2),
      rounds: results[name].map(Math.round),
    };
  });
  console.log(`verify: ${ROUNDS} interleaved rounds of ~${RUN_MS} ms per case after ${WARMUP_MS} ms warm-up (median)`);
  for (const row of rows) {
    console.log(`  ${row.name.padEnd(34)} ${String(row.opsPerSec).padStart(9)} ops/s  ${row.usPerOp.toFixed(2).padStart(7)} us/op  ${row.vsStringSecret.toFixed(2).padStart(6)}x string secret  ${row.vsHs256Verifier.toFixed(2).padStart(6)}x HS256 verifier`);
  }
  const cachedRow = rows.find((row) => row.name === 'ES256 verifier + token cache');
  console.log(`  ES256 with the token cache runs at ${cachedRow.vsHs256Verifier}x HS256 without it`);
  console.log(JSON.stringify({ bench: 'verify', ok: true, runMs: RUN_MS, rounds: ROUNDS, banListEntries: bans.size, cachedTokens: CACHED_TOKENS, cases: rows, machine: machine() }));
});
