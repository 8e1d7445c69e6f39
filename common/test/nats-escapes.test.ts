import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect as rawConnect } from '@nats-io/transport-node';
import { connectNats, type Logger } from '@ticketing/common';
import { capturingLogger, startNatsServer, waitFor, type NatsServer } from '@ticketing/testing';

// A connection whose status iterator breaks, as a bug in the client library or a reconnect race
// could make it: the next `status()` calls return an iterator that rejects at once.
const sabotage = vi.hoisted(() => ({ brokenStatusIterators: 0, statusCalls: 0 }));
vi.mock('@nats-io/transport-node', async (importOriginal) => {
  const real = await importOriginal<typeof import('@nats-io/transport-node')>();
  return {
    ...real,
    connect: async (...args: Parameters<typeof real.connect>) => {
      const nc = await real.connect(...args);
      const status = nc.status.bind(nc);
      nc.status = () => {
        sabotage.statusCalls += 1;
        if (sabotage.brokenStatusIterators === 0) return status();
        sabotage.brokenStatusIterators -= 1;
        return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('status iterator broke')) }) };
      };
      return nc;
    },
  };
});

let server: NatsServer;
const cleanups: (() => Promise<unknown>)[] = [];
const unhandled: unknown[] = [];
const recordUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', recordUnhandled);
  server = await startNatsServer();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  sabotage.brokenStatusIterators = 0;
  await server.start();
  expect(unhandled).toEqual([]);
});
afterAll(async () => {
  process.off('unhandledRejection', recordUnhandled);
  await server?.destroy();
});

function client(logger?: Logger) {
  const captured = capturingLogger();
  const nats = connectNats({ url: server.url, name: 'escapes-test', logger: logger ?? captured.logger, retryDelayMs: 50 });
  cleanups.push(() => nats.close());
  return { nats, lines: captured.lines };
}

const logged = (lines: () => Record<string, unknown>[], msg: string) => lines().filter((line) => line.msg === msg);

describe('connectNats, when a loop of its own fails', () => {
  it('logs a status iterator that throws, watches again, and still handles disconnects and reconnects', async () => {
    sabotage.brokenStatusIterators = 1;
    sabotage.statusCalls = 0;
    const { nats, lines } = client();
    let reconnects = 0;
    nats.onReconnect(() => { reconnects += 1; });
    await nats.connection();
    const [failure] = await waitFor(() => {
      const found = logged(lines, 'NATS status watch failed; starting it again');
      return found.length > 0 ? found : undefined;
    }, { what: 'the broken status iterator to be logged' });
    expect(failure).toMatchObject({ level: 50, err: { message: 'status iterator broke' } });
    await waitFor(() => sabotage.statusCalls >= 2, { what: 'a new status iterator' });

    await server.stop();
    await waitFor(() => !nats.isConnected(), { timeoutMs: 15_000, what: 'the disconnect to be seen' });
    await server.start();
    await waitFor(() => reconnects === 1 && nats.isConnected(), { timeoutMs: 15_000, what: 'the reconnect to be handled' });
  });

  it('logs a reconnect listener that throws, and still tells the others', async () => {
    const { nats, lines } = client();
    let told = 0;
    nats.onReconnect(() => { throw new Error('listener broke'); });
    nats.onReconnect(() => { told += 1; });
    await nats.connection();
    await server.stop();
    await waitFor(() => !nats.isConnected(), { timeoutMs: 15_000, what: 'the disconnect to be seen' });
    await server.start();
    await waitFor(() => told === 1, { timeoutMs: 15_000, what: 'the second listener to be told' });
    expect(logged(lines, 'NATS reconnect listener failed')).toMatchObject([{ level: 50, err: { message: 'listener broke' } }]);
  });

  it('logs a connect loop that fails, and starts it again', async () => {
    // The only way out of the connect loop left is its logger failing: here, once.
    const { logger, lines } = capturingLogger();
    let broken = true;
    const flaky = Object.assign(Object.create(logger) as Logger, {
      warn: ((...args: Parameters<Logger['warn']>) => {
        if (broken) {
          broken = false;
          throw new Error('log sink broke');
        }
        logger.warn(...args);
      }) as Logger['warn'],
    });
    await server.stop();
    const { nats } = client(flaky);
    await waitFor(() => logged(lines, 'NATS connect loop failed; starting it again').length > 0, { what: 'the failed loop to be logged' });
    expect(logged(lines, 'NATS connect loop failed; starting it again')).toMatchObject([{ level: 50, err: { message: 'log sink broke' } }]);
    await server.start();
    await nats.connection();
    expect(nats.isConnected()).toBe(true);
  });
});

const run = promisify(execFile);

/** Pids of this process's nats-server children listening (or trying to) on `port`. */
async function natsChildren(port: number): Promise<string[]> {
  const { stdout } = await run('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((line) => /nats-server .*-p (\S+)/.exec(line)?.[1] === String(port)).map((line) => line.trim().split(/\s+/)[0]!);
}

describe('startNatsServer', () => {
  it('restarts on its port, retrying while another process holds it', async () => {
    const { port, url } = server;
    await server.stop();
    const holder: Server = createServer();
    await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(port, '127.0.0.1', resolve));
    let holding = true;
    const release = () => (holding ? new Promise<void>((resolve) => { holding = false; holder.close(() => resolve()); }) : Promise.resolve());
    cleanups.push(release);
    let outcome: 'pending' | 'started' | 'failed' = 'pending';
    const restarting = server.start().then(() => { outcome = 'started'; }, (err: unknown) => { outcome = 'failed'; throw err; });

    // Two different nats-server processes on the port: the first found it taken, and start tried again.
    const seen = new Set<string>();
    await waitFor(async () => {
      for (const pid of await natsChildren(port)) seen.add(pid);
      return seen.size >= 2 || outcome !== 'pending';
    }, { timeoutMs: 10_000, what: 'a second attempt at the held port' });
    expect(outcome).toBe('pending');

    await release();
    await restarting;
    expect(server.port).toBe(port);
    const nc = await rawConnect({ servers: url });
    await nc.close();
  });
});
