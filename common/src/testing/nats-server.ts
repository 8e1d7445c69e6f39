import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portAccepts } from './free-port.js';
import { waitFor } from './wait-for.js';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Starts it again on the same port with the same JetStream store. */
  start(): Promise<void>;
  /** Stops it and waits for the process to exit. */
  stop(): Promise<void>;
  /** Stops it and deletes its store. */
  destroy(): Promise<void>;
}

/**
 * A throwaway nats-server with JetStream of its own (free port, temporary store), for tests that
 * need their own streams or stop and restart NATS; never the shared one. Needs `nats-server` on
 * the PATH.
 *
 * @example
 * const nats = await startNatsServer();
 * await nats.stop(); // an outage
 * await nats.start();
 */
export async function startNatsServer(): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ticketing-nats-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      const started = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
      child = started;
      started.once('exit', () => { if (child === started) child = undefined; });
      await waitFor(() => portAccepts(port), { timeoutMs: 15_000, what: `nats-server on port ${port}` });
    },
    async stop() {
      const running = child;
      if (!running) return;
      child = undefined;
      if (running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    },
    async destroy() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
