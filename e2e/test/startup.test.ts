import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { createTestDatabase, freePort, TEST_JWT_KEY } from '@ticketing/testing';
import { serviceMain } from './service-process.js';

const run = promisify(execFile);

/** Runs a service that should refuse to start; resolves with its exit code and what it printed. */
async function refusedStart(name: 'auth' | 'orders', env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [serviceMain(name)], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 });
  } catch (err) {
    const failed = err as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
  throw new Error(`${name} started, but should have refused to`);
}

it.each([
  [{}, 'auth: invalid config: JWT_KEY is required (no default for secrets)'],
  [{ JWT_KEY: 'too-short' }, 'auth: invalid config: JWT_KEY must be at least 32 bytes, got 9'],
  [{ JWT_KEY: TEST_JWT_KEY, ACCESS_TOKEN_TTL: '15' }, 'auth: invalid config: ACCESS_TOKEN_TTL must be a duration such as 30s, 15m or 24h, got "15"'],
  [{ JWT_KEY: TEST_JWT_KEY, PORT: 'eighty' }, 'auth: invalid config: PORT must be an integer, got "eighty"'],
  [{ JWT_KEY: TEST_JWT_KEY, DATABASE_URL: 'mysql://db/x' }, 'auth: invalid config: DATABASE_URL must use postgres: or postgresql:, got mysql:'],
])('stops with one line naming the variable for a bad config %#', async (env, line) => {
  const { code, stderr } = await refusedStart('auth', env);
  expect(code).toBe(1);
  expect(stderr).toBe(`${line}\n`);
});

it('stops with a clear message, and no password, when its database is unreachable', async () => {
  const port = await freePort();
  const { code, stderr } = await refusedStart('orders', { JWT_KEY: TEST_JWT_KEY, DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${port}/orders` });
  expect(code).toBe(1);
  expect(stderr).toMatch(new RegExp(`^orders: cannot reach database postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/orders: .*ECONNREFUSED.*\\n$`));
  expect(stderr).not.toContain('hunter2');
});

it('stops with one line naming the port when the port is taken', async () => {
  // Held on every interface, as the service listens, for the whole test.
  const holder = createServer();
  await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(0, resolve));
  const { port } = holder.address() as { port: number };
  const db = await createTestDatabase();
  try {
    const { code, stderr } = await refusedStart('orders', { JWT_KEY: TEST_JWT_KEY, DATABASE_URL: db.url, PORT: String(port) });
    expect(code).toBe(1);
    expect(stderr).toBe(`orders: cannot listen on port ${port}: address already in use\n`);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
    await db.drop();
  }
});
