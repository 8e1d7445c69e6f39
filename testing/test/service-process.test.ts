import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceProcess } from '@ticketing/testing';

// A stand-in for a built service: logs `listening` with its port as a service does, answers the
// health probes (ready unless FAKE_READY=no), exits with FAKE_EXIT at once if set, and exits 0 on SIGTERM.
const FAKE_SERVICE = `
import { createServer } from 'node:http';
if (process.env.FAKE_EXIT) {
  console.error('refusing to start');
  process.exit(Number(process.env.FAKE_EXIT));
}
const server = createServer((req, res) => {
  const up = req.url === '/healthz/live' || (req.url === '/healthz/ready' && process.env.FAKE_READY !== 'no');
  res.writeHead(up ? 200 : 503).end();
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log(JSON.stringify({ level: 30, msg: 'listening', port: server.address().port, env: { LOG_LEVEL: process.env.LOG_LEVEL, FAKE: process.env.FAKE } }));
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
`;

let dir: string;
let main: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'service-process-'));
  main = join(dir, 'main.mjs');
  await writeFile(main, FAKE_SERVICE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('startServiceProcess', () => {
  it('starts the process with env, learns its port from the listening line, and stops it with SIGTERM', async () => {
    const service = await startServiceProcess(main, { FAKE: 'yes' }, { name: 'fake' });
    try {
      expect(service.url).toBe(`http://127.0.0.1:${service.port}`);
      expect((await fetch(`${service.url}/healthz/ready`)).status).toBe(200);
      expect(service.output()).toContain('"env":{"LOG_LEVEL":"info","FAKE":"yes"}');
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });

  it('with ready: false, resolves once the process is live though not ready', async () => {
    const service = await startServiceProcess(pathToFileURL(main), { FAKE_READY: 'no' }, { ready: false });
    try {
      expect((await fetch(`${service.url}/healthz/ready`)).status).toBe(503);
    } finally {
      await service.stop();
    }
  });

  it('rejects at once, with its name, exit code and output, when the process exits before listening', async () => {
    const started = Date.now();
    await expect(startServiceProcess(main, { FAKE_EXIT: '3' }, { name: 'fake' })).rejects.toThrow(/^fake exited with 3: refusing to start/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a log level at which the port is never logged, and a missing entry point', async () => {
    await expect(startServiceProcess(main, { LOG_LEVEL: 'warn' })).rejects.toThrow(TypeError);
    await expect(startServiceProcess(join(dir, 'missing.js'), {})).rejects.toThrow(/missing\.js is missing: build the service first/);
  });
});
