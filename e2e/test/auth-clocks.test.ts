import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, jwtFromCookie, postJson, sessionCookieOf, startNatsServer, TEST_JWT_KEY, waitFor, type NatsServer, type TestDatabase } from '@ticketing/testing';
import { startService, type ServiceProcess } from './service-process.js';
import { signup } from './signup.js';

// Two auth replicas on one database and one nats-server, replica B's clock 10 s behind A's (inside
// CLOCK_SKEW), and orders. A token signed on A and a ban made on B a moment later must still meet
// the ban rule (iat * 1000 <= bannedAt) on every service: both instants come from the database's clock.
const B_CLOCK_OFFSET_MS = -10_000;

/** A preload that runs the process's Date (Date.now and new Date()) `offsetMs` off the real clock. */
const skewPreload = (offsetMs: number) => `
const RealDate = Date;
const offsetMs = ${offsetMs};
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [RealDate.now() + offsetMs] : args, newTarget),
  apply: () => new RealDate(RealDate.now() + offsetMs).toString(),
  get: (target, property, receiver) => (property === 'now' ? () => RealDate.now() + offsetMs : Reflect.get(target, property, receiver)),
});
`;

let nats: NatsServer;
let authDb: TestDatabase;
let ordersDb: TestDatabase;
let preloadDir: string;
let authA: ServiceProcess;
let authB: ServiceProcess;
let orders: ServiceProcess;
/** The real clock just before the services were started, and once all were ready. */
let startedAfter: number;
let readyBefore: number;

const env = () => ({ JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url, ADMIN_EMAILS: 'admin@example.com', AUTH_RATE_LIMIT: '1000' });

beforeAll(async () => {
  [nats, authDb, ordersDb] = await Promise.all([startNatsServer(), createTestDatabase(), createTestDatabase()]);
  preloadDir = await mkdtemp(join(tmpdir(), 'auth-clocks-'));
  const preload = join(preloadDir, 'clock-behind.mjs');
  await writeFile(preload, skewPreload(B_CLOCK_OFFSET_MS));
  startedAfter = Date.now();
  [authA, authB, orders] = await Promise.all([
    startService('auth', { ...env(), DATABASE_URL: authDb.url }),
    startService('auth', { ...env(), DATABASE_URL: authDb.url, NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` }),
    startService('orders', { ...env(), DATABASE_URL: ordersDb.url }),
  ]);
  readyBefore = Date.now();
});
afterAll(async () => {
  await Promise.all([authA, authB, orders].map((service) => service?.stop()));
  await Promise.all([nats?.destroy(), authDb?.drop(), ordersDb?.drop()]);
  if (preloadDir) await rm(preloadDir, { recursive: true, force: true });
});

const listOrders = (cookie: string) => fetch(`${orders.url}/api/orders`, { headers: { cookie } });
const iatOf = (cookie: string) => (JSON.parse(Buffer.from(jwtFromCookie(cookie).split('.')[1]!, 'base64url').toString()) as { iat: number }).iat;

/** The `time` (ms) of a service's `listening` log line: its process clock as it started. */
function listeningTime(service: ServiceProcess): number {
  for (const line of service.output().split('\n')) {
    try {
      const entry = JSON.parse(line) as { msg?: unknown; time?: unknown };
      if (entry.msg === 'listening' && typeof entry.time === 'string') return Date.parse(entry.time);
    } catch {
      // not a JSON log line
    }
  }
  throw new Error(`no listening line in: ${service.output()}`);
}

it('a token signed in on replica A is refused by orders after replica B, 10 s behind, bans its user', async () => {
  // The skew is real: B's log dates its start 10 s before the real time it started at.
  for (const [service, offsetMs] of [[authA, 0], [authB, B_CLOCK_OFFSET_MS]] as const) {
    expect(listeningTime(service) - offsetMs).toBeGreaterThanOrEqual(startedAfter);
    expect(listeningTime(service) - offsetMs).toBeLessThanOrEqual(readyBefore);
  }

  const admin = await signup(authA.url, 'admin@example.com');
  const user = await signup(authA.url, 'user@example.com');
  const signin = await postJson(`${authA.url}/api/users/signin`, { email: 'user@example.com', password: 'password1' });
  expect(signin.status).toBe(200);
  const token = sessionCookieOf(signin);
  expect((await listOrders(token)).status).toBe(200);

  const ban = await postJson(`${authB.url}/api/admin/users/${user.id}/ban`, { reason: 'fraud' }, admin.cookie);
  expect(ban.status).toBe(200);
  const { bannedAt } = (await ban.json()) as { bannedAt: string };

  await waitFor(async () => (await listOrders(token)).status === 403, { timeoutMs: 15_000, what: 'orders to refuse the token from before the ban' });
  expect(Date.parse(bannedAt)).toBeGreaterThanOrEqual(iatOf(token) * 1000);
  // The token from signup, also signed on A, is refused as well.
  expect((await listOrders(user.cookie)).status).toBe(403);
});
