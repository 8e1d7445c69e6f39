#!/usr/bin/env node
// Runs the whole system locally on the embedded default: nats-server (from the PATH, JetStream
// under .data/nats, on :4322 unless NATS_URL names a server to use instead), auth on :3000 and
// orders on :3001, each with PGlite under .data/. JWT_KEY comes from the environment, or from
// .data/jwt-key (made once, at random, so sessions survive a restart). Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = `${root}.data`;
mkdirSync(dataDir, { recursive: true });

function jwtKey() {
  if (process.env.JWT_KEY) return process.env.JWT_KEY;
  const file = `${dataDir}/jwt-key`;
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

const natsPort = process.env.NATS_PORT ?? '4322';
const ownNats = !process.env.NATS_URL;
if (ownNats && spawnSync('nats-server', ['--version']).error) {
  process.stderr.write('nats-server is not on the PATH: install it (Debian: apt-get install nats-server) or set NATS_URL\n');
  process.exit(1);
}
const natsUrl = process.env.NATS_URL ?? `nats://127.0.0.1:${natsPort}`;
const shared = { ...process.env, JWT_KEY: jwtKey(), NATS_URL: natsUrl, ADMIN_EMAILS: process.env.ADMIN_EMAILS ?? 'admin@example.com' };
const processes = [
  ...(ownNats ? [{ name: 'nats', command: 'nats-server', args: ['-c', `${root}nats/nats-server.conf`, '-a', '127.0.0.1', '-p', natsPort, '-js', '-sd', `${dataDir}/nats`] }] : []),
  { name: 'auth', port: process.env.AUTH_PORT ?? '3000' },
  { name: 'orders', port: process.env.ORDERS_PORT ?? '3001' },
];

const children = processes.map(({ name, port, command, args }) => {
  const child = command
    ? spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [`${root}${name}/dist/main.js`], {
      env: { ...shared, PORT: port, DATA_DIR: `${dataDir}/${name}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) process.stdout.write(`${name.padEnd(6)} | ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${name.padEnd(6)} | exited (${signal ?? code})\n`);
    stop(code ?? 1);
  });
  return child;
});

const [auth, orders] = processes.filter((p) => p.port);
process.stdout.write(`auth on http://localhost:${auth.port}, orders on http://localhost:${orders.port} (metrics on :9300 and :9301), NATS at ${natsUrl}; admins: ${shared.ADMIN_EMAILS}\n`);

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : null)))
    .then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
