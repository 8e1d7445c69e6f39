import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

// A package outside the workspaces, as another team would have it: it installs the packed
// @ticketing/common (without its peer dependencies) and uses only /tokens and /bans.
const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;

const CONSUMER = `
import { createTokenKey, createTokenSigner, createTokenVerifier, InvalidTokenError } from '@ticketing/common/tokens';
import { BanList } from '@ticketing/common/bans';

const key = createTokenKey('a-consumer-key-of-at-least-32-bytes!');
const user = { id: '3F2504E0-4F89-41D3-9A0C-0305E82C3301', email: 'ada@example.com', role: 'user' };
const token = createTokenSigner({ key, ttlMs: 60_000 }).sign(user);
const claims = createTokenVerifier({ key, maxLifetimeMs: 60_000 }).verify(token);
const bans = new BanList({ max: 10, windowMs: 90_000, logger: { error() {} } });
const before = bans.isBanned(claims.id, claims.iat * 1000);
bans.ban({ userId: user.id, bannedAt: new Date(), version: 1 });
let refused = '';
try { createTokenVerifier({ key, maxLifetimeMs: 30_000 }).verify(token); } catch (err) { if (err instanceof InvalidTokenError) refused = err.reason; }
console.log(JSON.stringify({ id: claims.id, before, after: bans.isBanned(claims.id, claims.iat * 1000), refused }));
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ticketing-consumer-'));
  await run('npm', ['pack', '-w', 'common', '--pack-destination', dir, '--silent'], { cwd: repo });
  const tarball = (await readdir(dir)).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack made no tarball');
  await writeFile(join(dir, 'package.json'), JSON.stringify({
    name: 'consumer', private: true, type: 'module', dependencies: { '@ticketing/common': `file:./${tarball}` },
  }));
  await writeFile(join(dir, 'index.mjs'), CONSUMER);
  // No peers: a team that only verifies tokens needs neither express nor the NATS client.
  await run('npm', ['install', '--prefer-offline', '--legacy-peer-deps', '--no-audit', '--no-fund', '--silent'], { cwd: dir });
}, 120_000);
afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

it('verifies a token and checks a ban list from the packed package, using only /tokens and /bans', async () => {
  const { stdout } = await run(process.execPath, ['index.mjs'], { cwd: dir });
  expect(JSON.parse(stdout)).toEqual({ id: '3f2504e0-4f89-41d3-9a0c-0305e82c3301', before: false, after: true, refused: 'lifetime' });
});

it('ships the built library, its sources and schemas, and no build info or test helpers', async () => {
  const { stdout } = await run('npm', ['pack', '-w', 'common', '--dry-run', '--json'], { cwd: repo });
  const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
  expect(files).toContain('dist/tokens/index.js');
  expect(files).toContain('src/tokens/index.ts');
  expect(files).toContain('schema/auth.user.banned.schema.json');
  expect(files.filter((file) => /tsbuildinfo|testing|\/test\//.test(file))).toEqual([]);
  // Every source map points at a source that ships.
  const maps = files.filter((file) => file.endsWith('.js.map'));
  expect(maps.length).toBeGreaterThan(0);
  for (const map of maps) expect(files).toContain(map.replace(/^dist\//, 'src/').replace(/\.js\.map$/, '.ts'));
});
