#!/usr/bin/env node
// Runs the whole system locally on the embedded default: nats-server (from the PATH, JetStream
// under .data/nats, with the authorization of nats/nats-server.conf, on :4322 unless NATS_URL names
// a server to use instead), auth on :3000 and orders on :3001, each with PGlite under .data/.
// Tokens are ES256: auth signs with .data/jwt-es256.pem (made once, so sessions survive a
// restart) and every service verifies with its public key, unless JWT_KEY in the environment asks
// for HS256. The two NATS users' seeds are made once too, under .data/nats-keys. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nkeys } from '@nats-io/transport-node';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = `${root}.data`;
mkdirSync(dataDir, { recursive: true });

/** The contents of `file`, made by `make()` the first time (readable by this user only). */
function madeOnce(file, make) {
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
  return readFileSync(file, 'utf8');
}

/** Token settings for auth and for the other services: HS256 when JWT_KEY is given, else ES256 with a key pair made once. */
function tokenSettings() {
  if (process.env.JWT_KEY) {
    const hs256 = { JWT_ALGORITHM: 'HS256', JWT_KEY: process.env.JWT_KEY };
    return { auth: hs256, services: hs256 };
  }
  const privateKeyPem = process.env.JWT_PRIVATE_KEY
    ?? madeOnce(`${dataDir}/jwt-es256.pem`, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const publicKeys = process.env.JWT_PUBLIC_KEYS ?? createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' });
  const services = { JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEYS: publicKeys };
  return { auth: { ...services, JWT_PRIVATE_KEY: privateKeyPem }, services };
}

/** An NKey user for the local nats-server: its seed file (made once) and public key. */
function natsUser(name) {
  mkdirSync(`${dataDir}/nats-keys`, { recursive: true, mode: 0o700 });
  const seedFile = `${dataDir}/nats-keys/${name}.nk`;
  const seed = madeOnce(seedFile, () => `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`).trim();
  return { seedFile, publicKey: nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey() };
}

const natsPort = process.env.NATS_PORT ?? '4322';
const ownNats = !process.env.NATS_URL;
if (ownNats && spawnSync('nats-server', ['--version']).error) {
  process.stderr.write('nats-server is not on the PATH: install it (Debian: apt-get install nats-server) or set NATS_URL\n');
  process.exit(1);
}
const natsUrl = process.env.NATS_URL ?? `nats://127.0.0.1:${natsPort}`;
// Our own nats-server lets auth publish and change the stream, and orders only read it.
const natsUsers = ownNats ? { auth: natsUser('auth'), orders: natsUser('orders') } : undefined;
const tokens = tokenSettings();
const shared = { ...process.env, NATS_URL: natsUrl, ADMIN_EMAILS: process.env.ADMIN_EMAILS ?? 'admin@example.com' };
delete shared.JWT_KEY;
delete shared.JWT_PRIVATE_KEY;
const processes = [
  ...(ownNats ? [{
    name: 'nats',
    command: 'nats-server',
    args: ['-c', `${root}nats/nats-server.conf`, '-a', '127.0.0.1', '-p', natsPort, '-js', '-sd', `${dataDir}/nats`],
    env: { ...process.env, NATS_AUTH_NKEY: natsUsers.auth.publicKey, NATS_ORDERS_NKEY: natsUsers.orders.publicKey },
  }] : []),
  { name: 'auth', port: process.env.AUTH_PORT ?? '3000', env: { ...tokens.auth, ...seedFileOf(natsUsers?.auth) } },
  { name: 'orders', port: process.env.ORDERS_PORT ?? '3001', env: { ...tokens.services, ...seedFileOf(natsUsers?.orders) } },
];

function seedFileOf(user) {
  return user === undefined ? {} : { NATS_NKEY_SEED_FILE: user.seedFile };
}

const children = processes.map(({ name, port, command, args, env }) => {
  const child = command
    ? spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [`${root}${name}/dist/main.js`], {
      env: { ...shared, ...env, PORT: port, DATA_DIR: `${dataDir}/${name}` },
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
process.stdout.write(`auth on http://localhost:${auth.port}, orders on http://localhost:${orders.port} (metrics on :9300 and :9301), NATS at ${natsUrl}; tokens ${tokens.auth.JWT_ALGORITHM}; admins: ${shared.ADMIN_EMAILS}\n`);

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
