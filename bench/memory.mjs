// Memory per ban-list entry, the user ids' strings not counted.
//
//   node --expose-gc bench/memory.mjs [--entries 1000000]
//
// The ids are made first (flat strings, as JSON.parse makes them) and kept for the whole run, so
// what each structure adds is its own cost: the heap plus array buffers after it holds every id,
// less before, after full collections. Measured each in a fresh child process, in this order:
//   1. BanList (what services run), --entries bans
//   2. baseline: lru-cache alone, with a TTL, holding a small integer per id (no entry objects)
//   3. baseline: lru-cache with a TTL holding an object of the four fields per id (the list's
//      former layout)
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { intArgs, machine, round, runBench } from './lib.mjs';

const KINDS = ['banList', 'lruCacheAlone', 'lruCacheWithObjects'];

if (process.argv[2] === '--child') {
  const kind = process.argv[3];
  const count = Number(process.argv[4]);
  const { BanList } = await import('@ticketing/common/bans');
  const { LRUCache } = await import('lru-cache');
  const { silentLogger } = await import('@ticketing/testing');
  const gc = () => { for (let i = 0; i < 4; i++) globalThis.gc(); };
  const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  // Each step in a function of its own, so that no temporary outlives it in a frame of this one.
  const makeIds = () => {
    // Flat strings (joined, not the concatenations randomUUID returns), as JSON.parse makes them.
    const made = Array.from({ length: count }, () => randomUUID().split('').join(''));
    // A Map lookup hashes each id once; do it now, so no structure is charged for the hashes.
    const hashed = new Map();
    for (const id of made) hashed.set(id, 0);
    hashed.clear();
    return made;
  };
  const build = (ids) => {
    const windowMs = 15 * 60_000 + 30_000;
    if (kind === 'banList') {
      const bans = new BanList({ max: count, windowMs, logger: silentLogger() });
      const bannedAt = new Date();
      for (const id of ids) bans.ban({ userId: id, bannedAt, version: 1 });
      return bans;
    }
    const cache = new LRUCache({ max: count, ttl: windowMs, ttlAutopurge: false });
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      cache.set(ids[i], kind === 'lruCacheAlone' ? 1 : { bannedAtMs: now + i, expiresAtMs: now + windowMs + i, version: 1, active: true });
    }
    return cache;
  };
  const ids = makeIds();
  gc();
  const before = used();
  const held = build(ids);
  gc();
  const bytes = used() - before;
  if (held.size !== count) throw new Error(`${kind} holds ${held.size}, wanted ${count}`);
  process.send({ bytesPerEntry: bytes / count, ids: ids.length });
  process.exit(0);
}

const { entries: N } = intArgs({ entries: 1_000_000 });

await runBench('memory', { deadlineMs: 10 * 60_000 }, async () => {
  const results = {};
  for (const kind of KINDS) {
    const child = fork(fileURLToPath(import.meta.url), ['--child', kind, String(N)], { execArgv: ['--expose-gc', '--max-old-space-size=4096'] });
    results[kind] = await new Promise((resolve, reject) => {
      child.once('message', (message) => resolve(message.bytesPerEntry));
      child.once('exit', (code) => { if (code !== 0) reject(new Error(`${kind} measurement exited with ${code}`)); });
    });
  }
  console.log(`memory: bytes per entry at ${N} entries, the ids' strings not counted (heap + array buffers)`);
  console.log(`  BanList (typed arrays and a Map):        ${results.banList.toFixed(1)}`);
  console.log(`  lru-cache alone, TTL, integer values:    ${results.lruCacheAlone.toFixed(1)}`);
  console.log(`  lru-cache, TTL, an object per entry:     ${results.lruCacheWithObjects.toFixed(1)}`);
  console.log(JSON.stringify({
    bench: 'memory',
    ok: true,
    entries: N,
    bytesPerEntry: Object.fromEntries(Object.entries(results).map(([kind, bytes]) => [kind, round(bytes, 1)])),
    ratio: { banListOverLruCacheAlone: round(results.banList / results.lruCacheAlone, 2) },
    machine: machine(),
  }));
});
