import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

export interface ServiceProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** `http://127.0.0.1:<metrics port>`, where `GET /metrics` is served (undefined when the service logged none). */
  readonly metricsUrl: string | undefined;
  /** Everything the process has written (its JSON log lines and any stderr). */
  output(): string;
  /**
   * SIGTERM (SIGKILL if it has not exited 15 s later), and resolves with the exit code once it has
   * exited (`null` when a signal ended it).
   */
  stop(): Promise<number | null>;
}

export interface ServiceProcessOptions {
  /** Names the service in errors; the path of its entry point by default. */
  name?: string;
  /** `false`: resolve once `/healthz/live` answers 200 rather than `/healthz/ready`. */
  ready?: boolean;
}

/** How long the process may take to log its port, and then to answer its health probe. */
const START_TIMEOUT_MS = 30_000;
/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
const STOP_TIMEOUT_MS = 15_000;
/** The log levels at which a service still writes its `listening` line (logged at info). */
const LEVELS_WITH_INFO = ['trace', 'debug', 'info'];

/** The ports in a service's `{"msg":"listening","port":N,"metricsPort":M}` log line, if `line` is that line. */
function listeningPorts(line: string): { port: number; metricsPort: number | undefined } | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown; metricsPort?: unknown };
    if (entry.msg !== 'listening' || typeof entry.port !== 'number') return undefined;
    return { port: entry.port, metricsPort: typeof entry.metricsPort === 'number' ? entry.metricsPort : undefined };
  } catch {
    return undefined; // not a JSON log line (stderr, a stack)
  }
}

/**
 * Starts a built service as a real process (`node <main>`, with `env` plus `PATH`, `LOG_LEVEL=info`
 * `PORT=0` and `METRICS_PORT=0` unless `env` sets them), learns the ports it got from its `listening` log line (so no
 * other process can take the port between choosing and listening), and resolves once
 * `/healthz/ready` answers 200 (or, with `ready: false`, once `/healthz/live` does). A process that
 * exits or does not come up within 30 s is killed and the start rejects with what it wrote.
 *
 * `main` is the service's built entry point; a caller resolves it (`dist/main.js`, the `main` of the
 * service's package), so this helper knows nothing of the repository's layout. A `LOG_LEVEL` above
 * `info` is a `TypeError`: the process would never log its port.
 *
 * @example
 * const auth = await startServiceProcess(require.resolve('@ticketing/auth'), { JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url }, { name: 'auth' });
 * await fetch(`${auth.url}/api/users/currentuser`);
 * expect(await auth.stop()).toBe(0);
 */
export async function startServiceProcess(
  main: string | URL,
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const path = main instanceof URL ? fileURLToPath(main) : main;
  const name = options.name ?? path;
  const probe = options.ready === false ? 'live' : 'ready';
  if (env.LOG_LEVEL !== undefined && !LEVELS_WITH_INFO.includes(env.LOG_LEVEL)) {
    throw new TypeError(`LOG_LEVEL must be ${LEVELS_WITH_INFO.join(', ')} (the port is read from the info line "listening"), got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  if (!existsSync(path)) throw new Error(`${path} is missing: build the service first (npx tsc -b)`);
  let output = '';
  let stdoutLine = '';
  let ports: { port: number; metricsPort: number | undefined } | undefined;
  const child = spawn(process.execPath, [path], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    const lines = (stdoutLine + text).split('\n');
    stdoutLine = lines.pop()!;
    for (const line of lines) ports ??= listeningPorts(line);
  });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  let spawnFailed = false;
  // 'close' rather than 'exit': by then all the process wrote is in `output`.
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.on('error', (err) => {
      spawnFailed = true;
      output += err.message;
      resolve(null);
    });
  });
  const gone = () => spawnFailed || child.exitCode !== null || child.signalCode !== null;
  // Called once the process has closed, so that `output` holds its last words.
  const died = (code: number | null) => new Error(`${name} exited with ${code ?? child.signalCode}: ${output}`);

  async function stop(): Promise<number | null> {
    if (!gone()) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  let listening: { port: number; metricsPort: number | undefined } | 'exited';
  try {
    // Each condition returns (rather than throws) on an early exit, so the wait ends at once.
    listening = await waitFor(() => (gone() ? 'exited' : ports), { timeoutMs: START_TIMEOUT_MS, what: `${name} to log the port it listens on` });
    if (listening === 'exited') throw died(await exited);
    const url = `http://127.0.0.1:${listening.port}/healthz/${probe}`;
    await waitFor(async () => {
      if (gone()) return true;
      const res = await fetch(url);
      await res.arrayBuffer();
      return res.status === 200;
    }, { timeoutMs: START_TIMEOUT_MS, what: `${name} to be ${probe}` });
    if (gone()) throw died(await exited);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    url: `http://127.0.0.1:${listening.port}`,
    port: listening.port,
    metricsUrl: listening.metricsPort === undefined ? undefined : `http://127.0.0.1:${listening.metricsPort}`,
    output: () => output,
    stop,
  };
}
