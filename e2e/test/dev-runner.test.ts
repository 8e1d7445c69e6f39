import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, portAccepts, postJson, sessionCookieOf, waitFor } from '@ticketing/testing';
import { startDevRunner, waitForPortsClosed, waitForReadyLine, type DevRunner } from './dev-runner.js';

// `npm start` as people use it: started twice, stopped every which way, on one database for both
// services, and with something in the way.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function runner(env: Record<string, string> = {}, options: { dataDir?: string; viaShell?: boolean } = {}): Promise<DevRunner> {
  const started = await startDevRunner(env, options);
  cleanups.push(() => started.destroy());
  return started;
}

/** A PostgreSQL database for runners whose data does not matter: faster to start than a fresh PGlite. */
async function sharedDatabase(): Promise<string> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db.url;
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

describe('npm start (scripts/dev.mjs)', () => {
  it('says once when everything is ready, with the URLs, and keeps nats-server\'s banner in its log file', async () => {
    const dev = await runner();
    const ready = await waitForReadyLine(dev);
    expect(ready).toMatch(new RegExp(`^ticketing: ready in \\d+\\.\\d s: open ${dev.clientUrl} \\(the web client\\); auth ${dev.authUrl}, orders ${dev.ordersUrl} \\(metrics on :${dev.ports.authMetrics} and :${dev.ports.ordersMetrics}\\), NATS nats://127\\.0\\.0\\.1:${dev.ports.nats}, tokens ES256`));
    expect((await fetch(`${dev.ordersUrl}/healthz/ready`)).status).toBe(200);
    const page = await fetch(dev.clientUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<a href="/signup">Sign up</a>');
    expect(dev.output()).not.toMatch(/Starting nats-server|\[INF\]/);
    expect(await readFile(`${dev.dataDir}/nats/nats-server.log`, 'utf8')).toMatch(/Starting nats-server/);
    const run = JSON.parse(await readFile(`${dev.dataDir}/run.json`, 'utf8')) as { pid: number; ready: boolean };
    expect(run).toMatchObject({ pid: dev.process.pid, ready: true });
  });

  it('refuses a second start on the same data folder in one line, even with NATS_URL set, and leaves the first running', async () => {
    const first = await runner({ DATABASE_URL: await sharedDatabase() });
    await waitForReadyLine(first);
    for (const env of [{}, { NATS_URL: `nats://127.0.0.1:${first.ports.nats}` }] as Record<string, string>[]) {
      const second = await runner(env, { dataDir: first.dataDir });
      expect(await second.exited()).toBe(1);
      expect(lines(second.output())).toEqual([
        `ticketing: already running in ${first.dataDir}, pid ${first.process.pid} (the web client on ${first.clientUrl}, auth on ${first.authUrl}, orders on ${first.ordersUrl}): stop it first (Ctrl-C in its terminal, or kill ${first.process.pid})`,
      ]);
    }
    expect((await fetch(`${first.authUrl}/healthz/ready`)).status).toBe(200);
  });

  it('stops its children on SIGTERM, and a stale lock does not stop the next start', async () => {
    const dev = await runner();
    await waitForReadyLine(dev);
    dev.process.kill('SIGTERM');
    expect(await dev.exited()).toBe(0);
    await waitForPortsClosed(dev);
    // SIGKILL leaves its lock behind; the reaper stops the children all the same.
    const again = await runner({}, { dataDir: dev.dataDir });
    await waitForReadyLine(again);
    again.process.kill('SIGKILL');
    await waitForPortsClosed(again);
    const third = await runner({}, { dataDir: dev.dataDir });
    await waitForReadyLine(third);
  });

  it('stops everything when the process that started it goes away (npm\'s shell killed)', async () => {
    // As npm runs it: under `sh -c`, with npm's variables.
    const dev = await runner({ DATABASE_URL: await sharedDatabase(), npm_lifecycle_event: 'start' }, { viaShell: true });
    await waitForReadyLine(dev);
    dev.process.kill('SIGKILL');
    await waitForPortsClosed(dev);
  });

  it('runs both services on one DATABASE_URL, each with its own migrations', async () => {
    const dev = await runner({ DATABASE_URL: await sharedDatabase() });
    await waitForReadyLine(dev);
    const signup = await postJson(`${dev.authUrl}/api/users/signup`, { email: 'shared@example.com', password: 'password1' });
    expect(signup.status).toBe(201);
    const order = await postJson(`${dev.ordersUrl}/api/orders`, { ticketId: 'concert-1' }, sessionCookieOf(signup));
    expect(order.status).toBe(201);
  });

  it('says in one line that nats-server is missing, and where to get it', async () => {
    const dev = await runner({ NATS_SERVER_BIN: '/nonexistent/nats-server' });
    expect(await dev.exited()).toBe(1);
    expect(lines(dev.output())).toEqual(['ticketing: nats-server: not found where NATS_SERVER_BIN=/nonexistent/nats-server points; or set NATS_URL to a server of your own']);
  });

  it('shows nats-server\'s own error when it cannot start, and stops the services', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as { port: number }).port;
    const dev = await runner({ NATS_PORT: String(port) });
    expect(await dev.exited()).toBe(1);
    expect(dev.output()).toMatch(new RegExp(`ticketing: nats-server stopped \\(exit code 1\\): .*nats-server\\.log says\\n.*address already in use`));
    await waitFor(async () => !(await portAccepts(dev.ports.auth)) && !(await portAccepts(dev.ports.orders)), { timeoutMs: 20_000, what: 'the services to stop' });
  });
});
