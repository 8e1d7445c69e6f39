import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@ticketing/common/testing';

export interface ServiceProcess {
  readonly url: string;
  readonly port: number;
  /** Everything the process has written (its JSON log lines and any stderr). */
  output(): string;
  /** SIGTERM, and resolves with the exit code once it has exited. */
  stop(): Promise<number | null>;
}

/**
 * Starts a built service (`auth` or `orders`) as a real process on a free port and resolves once
 * `/healthz/ready` answers 200 (or, with `ready: false`, once `/healthz/live` does). Run
 * `npm run build` first (the root `npm test` does).
 */
export async function startService(name: 'auth' | 'orders', env: Record<string, string>, options: { ready?: boolean } = {}): Promise<ServiceProcess> {
  const probe = options.ready === false ? 'live' : 'ready';
  const main = fileURLToPath(new URL(`../../${name}/dist/main.js`, import.meta.url));
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output}`);
      return (await fetch(`${url}/healthz/${probe}`)).status === 200;
    }, { timeoutMs: 30_000, what: `${name} to be ${probe}` });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
