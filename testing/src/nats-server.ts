import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Starts it again on the same port with the same JetStream store. */
  start(): Promise<void>;
  /** Stops it and waits for the process to exit. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), as a crashed node, and waits for the process to exit. */
  kill(): Promise<void>;
  /** Stops it and deletes its store. */
  destroy(): Promise<void>;
}

/** How long one start may take, retries on a taken port included. */
const START_TIMEOUT_MS = 15_000;
/** How much of the server's log a failed start reports. */
const OUTPUT_KEPT_CHARS = 4_000;

type Launch = { kind: 'started'; child: ChildProcess; port: number } | { kind: 'port in use' };

/** `NATS_SERVER_BIN` (which the test setup finds where package managers put it), else `nats-server` on the PATH. */
function natsServerProgram(): string {
  const chosen = process.env.NATS_SERVER_BIN;
  return chosen === undefined || chosen === '' ? 'nats-server' : chosen;
}

/**
 * Spawns nats-server on `port` (`-1`: the server picks a free one) and resolves once it is listening,
 * with the port it reports in its ports file (written only once its client listener is up).
 */
async function launch(port: number, storeDir: string, portsDir: string, deadline: number, options: NatsServerOptions): Promise<Launch> {
  // Flags after -c override the config file's listen address and store.
  const config = options.config === undefined ? [] : ['-c', options.config];
  const child = spawn(natsServerProgram(), [...config, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '--ports_file_dir', portsDir, ...(options.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...options.env },
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-OUTPUT_KEPT_CHARS); });
  let exited = false;
  child.once('exit', () => { exited = true; });
  child.once('error', (err) => { exited = true; output += err.message; });
  const portsFile = join(portsDir, `nats-server_${child.pid}.ports`);
  const outcome = await waitFor(async () => {
    if (exited) return { exited: true as const };
    const text = await readFile(portsFile, 'utf8').catch(() => '');
    const urls = text === '' ? undefined : (JSON.parse(text) as { nats?: string[] }).nats;
    return urls?.[0] === undefined ? undefined : { exited: false as const, port: Number(new URL(urls[0]).port) };
  }, { timeoutMs: Math.max(deadline - Date.now(), 1_000), what: `nats-server to listen on ${port === -1 ? 'a free port' : `port ${port}`}` })
    .catch(async (err: unknown) => {
      await stopProcess(child);
      throw err;
    });
  if (!outcome.exited) return { kind: 'started', child, port: outcome.port };
  if (/address already in use/i.test(output)) return { kind: 'port in use' };
  throw new Error(`nats-server exited with ${child.exitCode ?? child.signalCode} before listening: ${output.trim()}`);
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  // No pid: it never started (nats-server missing), so there is no exit to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

export interface NatsServerOptions {
  /** A server config file (`-c`), e.g. the repository's `nats/nats-server.conf` with authorization. */
  config?: string;
  /** Further arguments for nats-server (e.g. `['--user', 'svc', '--pass', 'pw']`). */
  args?: readonly string[];
  /** The server's environment besides `PATH`: the variables its config refers to (`$NATS_AUTH_NKEY`). */
  env?: Readonly<Record<string, string>>;
}

/**
 * A throwaway nats-server with JetStream of its own (a port it picks itself, a temporary store), for
 * tests that need their own streams or stop and restart NATS; never the shared one. A restart
 * takes the same port again, retrying while another process holds it (up to 15 s). Needs
 * `nats-server` (`NATS_SERVER_BIN`, else on the PATH).
 *
 * `config`, `args` and `env` shape the server (see {@link NatsServerOptions}).
 *
 * @example
 * const nats = await startNatsServer();
 * await nats.stop(); // an outage
 * await nats.start();
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ticketing-nats-'));
  const storeDir = join(dir, 'store');
  const portsDir = join(dir, 'ports');
  await mkdir(portsDir);
  let child: ChildProcess | undefined;
  let starting: Promise<void> | undefined;
  let port = -1;

  async function startOnce(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    // The first start lets the server pick a port, so no other process can take it in between; a
    // restart needs that same port (clients hold its URL), so it waits while someone else has it.
    const launched = await waitFor(async () => {
      const attempt = await launch(port, storeDir, portsDir, deadline, options).catch((err: unknown) => ({ kind: 'failed' as const, err }));
      return attempt.kind === 'port in use' ? undefined : attempt;
    }, { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what: `port ${port} to be free for nats-server` });
    if (launched.kind === 'failed') throw launched.err;
    port = launched.port;
    child = launched.child;
    const started = launched.child;
    started.once('exit', () => { if (child === started) child = undefined; });
  }

  /** Ends the running process (after a start in progress) with `signal`, and waits for its exit. */
  async function halt(signal: NodeJS.Signals): Promise<void> {
    await starting?.catch(() => undefined);
    const running = child;
    if (!running) return;
    child = undefined;
    await stopProcess(running, signal);
  }

  const server: NatsServer = {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    async start() {
      if (child) return;
      starting ??= startOnce().finally(() => { starting = undefined; });
      await starting;
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async destroy() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return server;
}
