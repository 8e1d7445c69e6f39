import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portAccepts, waitFor } from '@ticketing/testing';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start`'s runner (scripts/dev.mjs) as a real process, on free ports and a data folder of its own. */
export interface DevRunner {
  readonly process: ChildProcess;
  readonly dataDir: string;
  readonly ports: { auth: number; orders: number; client: number; nats: number; authMetrics: number; ordersMetrics: number; clientMetrics: number };
  readonly authUrl: string;
  readonly ordersUrl: string;
  readonly clientUrl: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Resolves with the exit code (or signal) once it has exited. */
  exited(): Promise<number | string>;
  /** Stops it (SIGTERM), waits for it, and removes its data folder. */
  destroy(): Promise<void>;
}

/**
 * Starts the runner with `env` added to this process's; `command` wraps it (e.g. `sh -c`, as npm
 * does). Does not wait for it to be ready (see `waitForReadyLine`).
 */
export async function startDevRunner(env: Record<string, string> = {}, options: { dataDir?: string; viaShell?: boolean } = {}): Promise<DevRunner> {
  const dataDir = options.dataDir ?? await mkdtemp(join(tmpdir(), 'ticketing-dev-'));
  const ports = {
    auth: await freePort(), orders: await freePort(), client: await freePort(), nats: await freePort(),
    authMetrics: await freePort(), ordersMetrics: await freePort(), clientMetrics: await freePort(),
  };
  const childEnv = {
    ...process.env,
    DEV_DATA_DIR: dataDir,
    AUTH_PORT: String(ports.auth),
    ORDERS_PORT: String(ports.orders),
    NATS_PORT: String(ports.nats),
    AUTH_METRICS_PORT: String(ports.authMetrics),
    ORDERS_METRICS_PORT: String(ports.ordersMetrics),
    CLIENT_PORT: String(ports.client),
    CLIENT_METRICS_PORT: String(ports.clientMetrics),
    ...env,
  };
  const script = join(REPO_ROOT, 'scripts/dev.mjs');
  const child = options.viaShell === true
    ? spawn('sh', ['-c', `"${process.execPath}" "${script}"`], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [script], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exit = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const runner: DevRunner = {
    process: child,
    dataDir,
    ports,
    authUrl: `http://localhost:${ports.auth}`,
    ordersUrl: `http://localhost:${ports.orders}`,
    clientUrl: `http://localhost:${ports.client}`,
    output: () => output,
    exited: () => exit,
    async destroy() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exit;
      await waitForPortsClosed(runner);
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return runner;
}

/** Waits (at most 60 s) for the runner's ready line, and returns it. */
export async function waitForReadyLine(runner: DevRunner): Promise<string> {
  return waitFor(() => {
    if (runner.process.exitCode !== null) throw new Error(`the runner exited: ${runner.output()}`);
    return runner.output().split('\n').find((line) => line.startsWith('ticketing: ready in '));
  }, { timeoutMs: 60_000, intervalMs: 50, what: 'the runner\'s ready line' }).catch((err: Error) => {
    throw new Error(`${err.message}; it printed:\n${runner.output()}`);
  });
}

/** Waits until nothing listens on any of the runner's ports. */
export async function waitForPortsClosed(runner: Pick<DevRunner, 'ports'>): Promise<void> {
  await waitFor(async () => {
    const open = await Promise.all(Object.values(runner.ports).map((port) => portAccepts(port)));
    return open.every((accepts) => !accepts);
  }, { timeoutMs: 20_000, intervalMs: 100, what: 'every port of the runner to close' });
}
