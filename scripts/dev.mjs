#!/usr/bin/env node
// Runs the whole system locally on the embedded default: nats-server (JetStream under .data/nats,
// with the authorization of nats/nats-server.conf, on :4322 unless NATS_URL names a server to use
// instead), auth on :3000 and orders on :3001, each with PGlite under .data/ unless DATABASE_URL
// is set, and the web client on :3002 in front of them. Tokens are ES256: auth signs with .data/jwt-es256.pem (made once, so sessions survive a
// restart) and every service verifies with its public key, unless JWT_KEY asks for HS256. The two
// NATS users' seeds and the client's anti-forgery key are made once too, under .data/.
//
// One runner per data folder (.data/run.json is its lock, and tells `npm run demo` what runs).
// It prints one line when everything is ready. Its children stop when it stops, however it is
// stopped: Ctrl-C, SIGTERM, the process that started it (npm) going away, or SIGKILL (a reaper
// process stops them then).
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nkeys } from '@nats-io/transport-node';
import { findExecutable, missingProgramMessage } from './prerequisites.mjs';
import { isAlive } from './processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.DEV_DATA_DIR || `${root}.data`;
const runFile = `${dataDir}/run.json`;
const startedAt = Date.now();
const say = (line) => process.stdout.write(`ticketing: ${line}\n`);
const fail = (line) => {
  process.stderr.write(`ticketing: ${line}\n`);
  process.exit(1);
};

/** The contents of a run file, or undefined when it cannot be read as one. */
function readRun(file) {
  try {
    const run = JSON.parse(readFileSync(file, 'utf8'));
    return typeof run === 'object' && run !== null && Number.isSafeInteger(run.pid) && run.pid > 0 ? run : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs this script (where /proc tells; elsewhere a live pid is taken to). */
function isRunner(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith('scripts/dev.mjs'));
  } catch (err) {
    return !(err.code === 'ENOENT' && existsSync('/proc/self'));
  }
}

/** The runner holding `runFile`, when it is still running; undefined when the file is stale. */
function runningRunner() {
  const run = readRun(runFile);
  if (run === undefined || run.pid === process.pid) return undefined;
  return isAlive(run.pid) && isRunner(run.pid) ? run : undefined;
}

/** Takes the data folder's lock: exits with one line when another runner holds it. */
function lockDataFolder() {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  // Written whole first, then linked into place in one step: no runner ever reads a half-made lock.
  const draft = `${runFile}.${process.pid}`;
  writeFileSync(draft, JSON.stringify({ pid: process.pid, startedAt: new Date(startedAt).toISOString(), ready: false }), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        linkSync(draft, runFile);
        return;
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
      }
      const other = runningRunner();
      if (other !== undefined) {
        const client = other.client?.url === undefined ? '' : `the web client on ${other.client.url}, `;
        const where = other.auth?.url === undefined ? '' : ` (${client}auth on ${other.auth.url}, orders on ${other.orders?.url})`;
        fail(`already running in ${dataDir}, pid ${other.pid}${where}: stop it first (Ctrl-C in its terminal, or kill ${other.pid})`);
      }
      // A stale lock: moved aside under a name of this runner's own, so that of two runners taking
      // it over at once, one gets it; a live lock moved aside by mistake is put back.
      const aside = `${runFile}.stale.${process.pid}`;
      try {
        renameSync(runFile, aside);
      } catch (err) {
        if (err.code === 'ENOENT') continue;
        throw err;
      }
      const moved = readRun(aside);
      if (moved?.pid !== undefined && moved.pid !== process.pid && isAlive(moved.pid) && isRunner(moved.pid)) {
        try {
          linkSync(aside, runFile);
        } catch {
          // someone else holds it now; the next attempt says so
        }
      }
      rmSync(aside, { force: true });
    }
    fail(`cannot take ${runFile}: other runners are starting at the same moment`);
  } finally {
    rmSync(draft, { force: true });
  }
}

/** Rewrites `runFile` (readable by this user only: it may hold JWT_KEY or a database password). */
function writeRunFile(contents) {
  const next = `${runFile}.${process.pid}`;
  writeFileSync(next, JSON.stringify(contents, null, 2), { mode: 0o600 });
  renameSync(next, runFile);
}

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

/** Settings of the config table a user may have exported for the services; a replica started by the demo gets them too. */
const PASSED_SETTINGS = [
  'ACCESS_TOKEN_TTL', 'CLOCK_SKEW', 'BAN_CACHE_MAX', 'TOKEN_CACHE_MAX', 'DATABASE_URL', 'LOG_LEVEL', 'NODE_ENV', 'TRUST_PROXY', 'ALLOWED_ORIGINS',
];

const ownNats = !process.env.NATS_URL;
const natsServer = ownNats ? findExecutable('nats-server') : undefined;
if (ownNats && natsServer === undefined) fail(`${missingProgramMessage('nats-server')}; or set NATS_URL to a server of your own`);
const missingBuild = ['auth', 'orders', 'client'].filter((name) => !existsSync(`${root}${name}/dist/main.js`));
if (missingBuild.length > 0) fail(`${missingBuild.join(' and ')} not built: run npm run build first (npm start does)`);
lockDataFolder();

const natsPort = process.env.NATS_PORT || '4322';
const natsUrl = process.env.NATS_URL || `nats://127.0.0.1:${natsPort}`;
// Our own nats-server lets auth publish and change the stream, and orders only read it.
const natsUsers = ownNats ? { auth: natsUser('auth'), orders: natsUser('orders') } : undefined;
const tokens = tokenSettings();
const terminal = process.stdout.isTTY === true;
const shared = {
  NATS_URL: natsUrl,
  ADMIN_EMAILS: process.env.ADMIN_EMAILS ?? 'admin@example.com',
  ...Object.fromEntries(PASSED_SETTINGS.filter((name) => process.env[name]).map((name) => [name, process.env[name]])),
  // Pretty lines when a person is watching; the children write to a pipe, so they are told.
  ...(terminal && !process.env.LOG_FORMAT ? { LOG_FORMAT: 'pretty', FORCE_COLOR: '1' } : {}),
  ...(process.env.LOG_FORMAT ? { LOG_FORMAT: process.env.LOG_FORMAT } : {}),
};
const seedFileOf = (user) => (user === undefined ? {} : { NATS_NKEY_SEED_FILE: user.seedFile });
const ports = {
  auth: process.env.AUTH_PORT || '3000', authMetrics: process.env.AUTH_METRICS_PORT || '9300',
  orders: process.env.ORDERS_PORT || '3001', ordersMetrics: process.env.ORDERS_METRICS_PORT || '9301',
  client: process.env.CLIENT_PORT || '3002', clientMetrics: process.env.CLIENT_METRICS_PORT || '9302',
};
// The services take the client's forms as their own site's: the client checks them first, and
// passes on the browser's Origin, which names the client.
const clientOrigins = [`http://localhost:${ports.client}`, `http://127.0.0.1:${ports.client}`];
const allowedOrigins = { ALLOWED_ORIGINS: [process.env.ALLOWED_ORIGINS, ...clientOrigins].filter(Boolean).join(',') };
const services = [
  { name: 'auth', port: ports.auth, metricsPort: ports.authMetrics, env: { ...tokens.auth, ...seedFileOf(natsUsers?.auth), ...allowedOrigins } },
  { name: 'orders', port: ports.orders, metricsPort: ports.ordersMetrics, env: { ...tokens.services, ...seedFileOf(natsUsers?.orders), ...allowedOrigins } },
  {
    name: 'client',
    port: ports.client,
    metricsPort: ports.clientMetrics,
    env: {
      AUTH_URL: `http://127.0.0.1:${ports.auth}`,
      ORDERS_URL: `http://127.0.0.1:${ports.orders}`,
      ANTI_FORGERY_KEY: madeOnce(`${dataDir}/anti-forgery.key`, () => randomBytes(48).toString('base64url')),
      BAN_METRICS_URLS: `auth=http://127.0.0.1:${ports.authMetrics}/metrics,orders=http://127.0.0.1:${ports.ordersMetrics}/metrics`,
    },
  },
].map((service) => ({
  ...service,
  url: `http://localhost:${service.port}`,
  env: { ...shared, ...service.env, PORT: service.port, METRICS_PORT: service.metricsPort, DATA_DIR: `${dataDir}/${service.name}` },
}));

// The environment the services get: the runner's own, less the keys it hands out itself.
const base = { ...process.env };
for (const name of ['JWT_KEY', 'JWT_PRIVATE_KEY', 'JWT_PUBLIC_KEYS', 'LOG_FORMAT', 'FORCE_COLOR', 'NATS_PORT']) delete base[name];

const reaper = spawn(process.execPath, [`${root}scripts/reaper.mjs`], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
reaper.unref();
const children = [];
let stopping = false;

/** Relays a child's output line by line, as it is (each service names itself in every line). */
function relay(stream, out) {
  let rest = '';
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) out.write(`${line}\n`);
  });
}

function start(name, command, args, env, stdio) {
  const child = spawn(command, args, { env, stdio });
  children.push(child);
  reaper.stdin.write(`${child.pid}\n`);
  child.on('error', (err) => {
    process.stderr.write(`ticketing: ${name} could not start: ${err.message}\n`);
    stop(1);
  });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`ticketing: ${name} stopped (${signal ?? `exit code ${code}`})${name === 'nats-server' ? natsLogExcerpt() : ''}; stopping everything\n`);
    stop(1);
  });
  return child;
}

const natsLog = `${dataDir}/nats/nats-server.log`;

/** The lines of nats-server's log that say what went wrong, for when it stopped. */
function natsLogExcerpt() {
  let lines;
  try {
    lines = readFileSync(natsLog, 'utf8').trimEnd().split('\n');
  } catch {
    return '';
  }
  const errors = lines.filter((line) => /\[(ERR|FTL)\]/.test(line));
  const shown = (errors.length > 0 ? errors : lines).slice(-5);
  return `: ${natsLog} says\n${shown.map((line) => `  ${line}`).join('\n')}\n`;
}

if (ownNats) {
  mkdirSync(`${dataDir}/nats`, { recursive: true });
  // nats-server's own output goes to its log file; it is shown only if nats-server stops.
  const log = openSync(natsLog, 'w', 0o600);
  start('nats-server', natsServer, ['-c', `${root}nats/nats-server.conf`, '-a', '127.0.0.1', '-p', natsPort, '-js', '-sd', `${dataDir}/nats`], {
    ...process.env, NATS_AUTH_NKEY: natsUsers.auth.publicKey, NATS_ORDERS_NKEY: natsUsers.orders.publicKey,
  }, ['ignore', log, log]);
  closeSync(log);
}
for (const service of services) {
  const child = start(service.name, process.execPath, [`${root}${service.name}/dist/main.js`], { ...base, ...service.env }, ['ignore', 'pipe', 'pipe']);
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
}
say(`starting ${ownNats ? `nats-server (its log: ${natsLog}), ` : ''}auth, orders and the web client; Ctrl-C stops everything`);

/** Resolves once every service answers 200 on /healthz/ready; says once what is missing after 30 s. */
async function waitUntilReady() {
  let warned = false;
  for (;;) {
    const answers = await Promise.all(services.map(async (service) => {
      try {
        const res = await fetch(`http://127.0.0.1:${service.port}/healthz/ready`, { signal: AbortSignal.timeout(2_000) });
        return res.ok ? undefined : `${service.name}: ${(await res.json()).errors?.map((error) => error.message).join(', ')}`;
      } catch {
        return `${service.name}: not listening yet`;
      }
    }));
    const waiting = answers.filter((answer) => answer !== undefined);
    if (waiting.length === 0) return;
    if (!warned && Date.now() - startedAt > 30_000) {
      warned = true;
      say(`still not ready after 30 s (${waiting.join('; ')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

waitUntilReady().then(() => {
  if (stopping) return;
  const [auth, orders, client] = services;
  writeRunFile({
    pid: process.pid,
    startedAt: new Date(startedAt).toISOString(),
    ready: true,
    natsUrl,
    tokens: tokens.auth.JWT_ALGORITHM,
    auth: { url: auth.url },
    client: { url: client.url },
    // What a further orders replica needs (npm run demo starts one).
    orders: { url: orders.url, main: `${root}orders/dist/main.js`, env: orders.env },
  });
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  say(`ready in ${seconds} s: open ${client.url} (the web client); auth ${auth.url}, orders ${orders.url} (metrics on :${auth.metricsPort} and :${orders.metricsPort}), `
    + `NATS ${natsUrl}, tokens ${tokens.auth.JWT_ALGORITHM}, admins ${shared.ADMIN_EMAILS}. Try: npm run demo`);
}, (err) => fail(`waiting for the services: ${err.message}`));

const STOP_TIMEOUT_MS = 15_000;

function stop(code) {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  if (stopping) {
    // Asked twice (a second Ctrl-C): no more waiting.
    for (const child of running) child.kill('SIGKILL');
    return;
  }
  stopping = true;
  for (const child of running) child.kill('SIGTERM');
  setTimeout(() => {
    const left = children.filter((child) => child.exitCode === null && child.signalCode === null);
    if (left.length > 0) say(`still stopping after ${STOP_TIMEOUT_MS / 1000} s: killing pid ${left.map((child) => child.pid).join(', ')}`);
    for (const child of left) child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS).unref();
  Promise.all(running.map((child) => new Promise((resolve) => { child.once('exit', resolve); }))).then(() => {
    // Only the runner that holds the lock removes it.
    if (runningRunner() === undefined) rmSync(runFile, { force: true });
    reaper.stdin.end('done\n');
    process.exit(code);
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(0));

// `npm start` runs this under `sh -c`, and npm's stop signal may reach only that shell: when npm
// or that shell is gone, stop too. (Started otherwise, say under nohup, it outlives its parent.)
const ancestors = process.env.npm_lifecycle_event ? [process.ppid, parentOf(process.ppid)].filter((pid) => pid > 1) : [];
function parentOf(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  } catch {
    return 0;
  }
}
if (ancestors.length > 0) setInterval(() => {
  if (process.ppid !== ancestors[0] || !ancestors.every(isAlive)) {
    say('the process that started it is gone; stopping');
    stop(0);
  }
}, 500).unref();
