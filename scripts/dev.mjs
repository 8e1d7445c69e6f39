#!/usr/bin/env node
// Runs the whole system locally on the embedded default: auth on :3000 and orders on :3001, each
// with PGlite under .data/. JWT_KEY comes from the environment, or from .data/jwt-key (made once,
// at random, so sessions survive a restart). Ctrl-C stops everything.
import { spawn } from 'node:child_process';
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

const shared = { ...process.env, JWT_KEY: jwtKey(), ADMIN_EMAILS: process.env.ADMIN_EMAILS ?? 'admin@example.com' };
const services = [
  { name: 'auth', port: process.env.AUTH_PORT ?? '3000' },
  { name: 'orders', port: process.env.ORDERS_PORT ?? '3001' },
];

const children = services.map(({ name, port }) => {
  const child = spawn(process.execPath, [`${root}${name}/dist/main.js`], {
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

process.stdout.write(`auth on http://localhost:${services[0].port}, orders on http://localhost:${services[1].port}; admins: ${shared.ADMIN_EMAILS}\n`);

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
