import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface PostgresServer {
  /** URL of the `postgres` database on this server. */
  readonly url: string;
  readonly port: number;
  /** Starts it again (same port, same data). */
  start(): Promise<void>;
  /** Stops it at once, as a crash would. */
  stop(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/** PostgreSQL refuses to run as root; as root, run its tools as the `postgres` user. */
function asPostgres(command: string, args: string[]): Promise<unknown> {
  // PG_BIN_DIR: where the test setup found PostgreSQL's programs (Debian keeps them off the PATH).
  const folder = process.env.PG_BIN_DIR;
  const program = folder === undefined || folder === '' ? command : join(folder, command);
  return process.getuid?.() === 0 ? run('runuser', ['-u', 'postgres', '--', program, ...args]) : run(program, args);
}

/**
 * A throwaway PostgreSQL server of its own (initdb in a temporary folder, on a free port), for
 * tests that stop and restart the database; never the shared one. Needs `initdb` and `pg_ctl`
 * in `PG_BIN_DIR`, else on the PATH.
 *
 * @example
 * const pgServer = await startPostgresServer();
 * await pgServer.stop(); // the service now answers 503
 * await pgServer.start(); // and recovers
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ticketing-pg-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c full_page_writes=off`;
  const server: PostgresServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    },
    async stop() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async destroy() {
      await server.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
