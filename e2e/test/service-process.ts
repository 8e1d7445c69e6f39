import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@ticketing/testing';

export interface ServiceProcess {
  readonly url: string;
  readonly port: number;
  /** Everything the process has written (its JSON log lines and any stderr). */
  output(): string;
  /** SIGTERM, and resolves with the exit code once it has exited. */
  stop(): Promise<number | null>;
}

/** The port in a service's `{"msg":"listening","port":N}` log line, if `line` is that line. */
function listeningPort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return entry.msg === 'listening' && typeof entry.port === 'number' ? entry.port : undefined;
  } catch {
    return undefined; // not a JSON log line (stderr, a stack)
  }
}

/**
 * Starts a built service (`auth` or `orders`) as a real process with `PORT=0`, learns the port it
 * got from its `listening` log line (so no other process can take the port between choosing and
 * listening), and resolves once `/healthz/ready` answers 200 (or, with `ready: false`, once
 * `/healthz/live` does). Run `npm run build` first (the root `npm test` does).
 */
export async function startService(name: 'auth' | 'orders', env: Record<string, string>, options: { ready?: boolean } = {}): Promise<ServiceProcess> {
  const probe = options.ready === false ? 'live' : 'ready';
  const main = fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url));
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  let output = '';
  let stdoutLine = '';
  let port: number | undefined;
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    const lines = (stdoutLine + text).split('\n');
    stdoutLine = lines.pop()!;
    for (const line of lines) port ??= listeningPort(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const died = () => new Error(`${name} exited with ${child.exitCode ?? child.signalCode}: ${output}`);
  let listening: number | 'exited';
  try {
    // Each condition returns (rather than throws) on an early exit, so the wait ends at once.
    listening = await waitFor(() => (gone() ? 'exited' : port), { timeoutMs: 30_000, what: `${name} to log the port it listens on` });
    if (listening === 'exited') throw died();
    const url = `http://127.0.0.1:${listening}/healthz/${probe}`;
    await waitFor(async () => gone() || (await fetch(url)).status === 200, { timeoutMs: 30_000, what: `${name} to be ${probe}` });
    if (gone()) throw died();
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url: `http://127.0.0.1:${listening}`,
    port: listening,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
