import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@ticketing/common';
import { silentLogger } from '@ticketing/testing';
import { databaseContract } from './database-contract.js';

// PGlite (PostgreSQL compiled to WASM) is the embedded default; it must behave as the server does.
describe('openDatabase on PGlite (memory://)', () => {
  databaseContract(() => openDatabase({ url: undefined, dataDir: 'memory://', logger: silentLogger() }), 'pglite');
});

describe('openDatabase on PGlite in a folder', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const folder = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ticketing-pglite-'));
    dirs.push(dir);
    return join(dir, 'data');
  };
  const open = (dataDir: string) => openDatabase({ url: undefined, dataDir, logger: silentLogger() });

  it('refuses a second opener of the folder while the first has it, and lets the next one in once it closed', async () => {
    const dataDir = await folder();
    const first = await open(dataDir);
    await expect(open(dataDir)).rejects.toThrow(`the embedded database in ${dataDir} is open in another process (pid ${process.pid})`);
    await first.query('CREATE TABLE kept (id int)');
    await first.close();
    const next = await open(dataDir);
    expect((await next.query<{ found: string | null }>("SELECT to_regclass('kept')::text AS found")).rows).toEqual([{ found: 'kept' }]);
    await next.close();
    expect((await readdir(dataDir)).filter((name) => name.startsWith('ticketing.pid'))).toEqual([]);
  });

  it('takes over the lock of a process that is gone, and keeps the folder to its owner', async () => {
    const dataDir = await folder();
    await (await open(dataDir)).close();
    await writeFile(join(dataDir, 'ticketing.pid'), '2147483646\n');
    const db = await open(dataDir);
    expect(((await stat(dataDir)).mode & 0o777).toString(8)).toBe('700');
    await db.close();
  });
});
