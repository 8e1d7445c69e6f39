import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAuthStream, startNatsServer, startServiceProcess, TEST_JWT_KEY, type NatsServer } from '@ticketing/testing';

let nats: NatsServer;
let dir: string;
beforeAll(async () => {
  [nats, dir] = await Promise.all([startNatsServer(), mkdtemp(join(tmpdir(), 'ticketing-no-db-'))]);
  // Auth would have made it; this service only waits for it.
  await createAuthStream(nats.url);
});
afterAll(async () => {
  await nats?.destroy();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

it('runs a service without a database: ready without one, opening none, and stopping cleanly', async () => {
  const dataDir = join(dir, 'data');
  const service = await startServiceProcess(new URL('./support/no-database-service.mjs', import.meta.url), {
    JWT_KEY: TEST_JWT_KEY,
    NATS_URL: nats.url,
    DATA_DIR: dataDir,
    // Never read: a service without migrations opens no database at all.
    DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
  }, { name: 'no-database' });
  const ready = await fetch(`${service.url}/healthz/ready`);
  expect(ready.status).toBe(200);
  expect(await (await fetch(`${service.url}/api/hello`)).json()).toEqual({ hello: true });
  expect(existsSync(dataDir)).toBe(false);
  expect(service.output()).not.toMatch(/database ready/);
  expect(await service.stop()).toBe(0);
});
