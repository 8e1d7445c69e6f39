#!/usr/bin/env node
// `npm run demo`: the pattern at work against the system `npm start` runs. An admin and a user sign
// up, the user orders a ticket, the admin bans them and orders refuses their next request (timed),
// a fresh orders replica replays the ban and refuses them too, the admin unbans them, and a new
// sign-in works. One line a step; exits 1 at the first step that does not behave.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAlive } from './processes.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.DEV_DATA_DIR || `${root}.data`;
const ADMIN_EMAIL = process.env.DEMO_ADMIN_EMAIL || 'admin@example.com';
const ADMIN_PASSWORD = process.env.DEMO_ADMIN_PASSWORD || 'admin password';
const cleanups = [];

const step = (line) => process.stdout.write(`  ok  ${line}\n`);

class StepFailed extends Error {}
function expectThat(condition, what) {
  if (!condition) throw new StepFailed(what);
}

/** What `npm start` wrote about the running system, or a one-line failure. */
function runningSystem() {
  let run;
  try {
    run = JSON.parse(readFileSync(`${dataDir}/run.json`, 'utf8'));
  } catch {
    throw new StepFailed(`nothing runs from ${dataDir}: start it with npm start, and run the demo once it says ready`);
  }
  expectThat(Number.isSafeInteger(run?.pid) && run.pid > 1, `${dataDir}/run.json is not what npm start writes: stop npm start, delete it, and start again`);
  expectThat(isAlive(run.pid), `nothing runs from ${dataDir} (the runner that wrote run.json is gone): start it with npm start`);
  expectThat(run.ready === true, `the system in ${dataDir} is still starting: run the demo once npm start says ready`);
  const text = (value) => typeof value === 'string' && value !== '';
  expectThat(text(run.auth?.url) && text(run.orders?.url) && text(run.orders?.main) && typeof run.orders?.env === 'object',
    `${dataDir}/run.json is not what npm start writes: stop npm start, delete it, and start again`);
  return run;
}

/** The `name=value` pairs a response sets, as a Cookie header (cookies cleared by it are left out). */
function cookiesOf(res, previous = '') {
  const jar = new Map(previous.split('; ').filter(Boolean).map((pair) => [pair.split('=')[0], pair]));
  for (const cookie of res.headers.getSetCookie()) {
    const pair = cookie.split(';')[0];
    const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join('; ');
}

async function call(method, url, { body, cookie } = {}) {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(10_000),
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err) => {
    const why = err.name === 'TimeoutError' ? 'no answer within 10 s' : err.cause?.code ?? err.message;
    throw new StepFailed(`${method} ${url}: ${why} (is npm start still running?)`);
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, cookie: cookiesOf(res, cookie), res };
}

const errorOf = (answer) => answer.body?.errors?.[0]?.message ?? JSON.stringify(answer.body);
const describe = (answer) => `${answer.status} ${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)}`;

/** Signs the admin up, or in when the account exists. */
async function adminSession(authUrl) {
  const signup = await call('POST', `${authUrl}/api/users/signup`, { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  if (signup.status === 201) {
    expectThat(signup.body.role === 'admin', `${ADMIN_EMAIL} signed up as ${signup.body.role}, not admin: is it in the runner's ADMIN_EMAILS?`);
    step(`admin signed up: ${ADMIN_EMAIL} (id ${signup.body.id})`);
    return signup;
  }
  expectThat(signup.status === 409, `admin signup: expected 201, got ${describe(signup)}`);
  const signin = await call('POST', `${authUrl}/api/users/signin`, { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  expectThat(signin.status === 200, `${ADMIN_EMAIL} exists, and signing in with the demo's password gave ${describe(signin)}: set DEMO_ADMIN_PASSWORD to its password`);
  expectThat(signin.body.role === 'admin', `${ADMIN_EMAIL} is a ${signin.body.role}, not an admin`);
  step(`admin signed in: ${ADMIN_EMAIL} (id ${signin.body.id})`);
  return signin;
}

/** Requests `url` back to back until it answers `status`; resolves with the answer and when it came (ms, performance clock). */
async function firstAnswer(url, cookie, status, what) {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const answer = await call('GET', url, { cookie });
    if (answer.status === status) return { answer, at: performance.now() };
    expectThat(performance.now() < deadline, `${what}: still ${describe(answer)} after 5 s`);
  }
}

/** Starts another orders process as `npm start` runs orders, on free ports and an in-memory database; resolves with its URL once ready. */
async function startOrdersReplica(run) {
  const startedAt = performance.now();
  // Exactly what npm start gave orders, not this shell's settings (a DATABASE_URL of another project, say).
  const child = spawn(process.execPath, [run.orders.main], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...run.orders.env, PORT: '0', METRICS_PORT: '0', DATA_DIR: 'memory://', LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  }));
  let output = '';
  child.stderr.on('data', (chunk) => { output += chunk; });
  const port = await new Promise((resolve, reject) => {
    let rest = '';
    child.stdout.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        output += `${line}\n`;
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening') resolve(entry.port);
        } catch {
          // not a log line
        }
      }
    });
    child.once('exit', (code) => reject(new StepFailed(`the fresh orders replica exited (${code}) before listening: ${output.trim()}`)));
    setTimeout(() => reject(new StepFailed(`the fresh orders replica did not listen within 30 s: ${output.trim()}`)), 30_000).unref();
  });
  const url = `http://localhost:${port}`;
  await firstAnswer(`${url}/healthz/ready`, undefined, 200, 'the fresh orders replica to be ready');
  return { url, pid: child.pid, readyMs: performance.now() - startedAt };
}

const ms = (value) => (value < 1_000 ? `${value.toFixed(1)} ms` : `${(value / 1_000).toFixed(1)} s`);

async function demo() {
  const run = runningSystem();
  const authUrl = run.auth.url;
  const ordersUrl = run.orders.url;
  step(`the system is running: auth ${authUrl}, orders ${ordersUrl}, tokens ${run.tokens}`);

  const admin = await adminSession(authUrl);

  const email = `demo-${randomBytes(3).toString('hex')}@example.com`;
  const signup = await call('POST', `${authUrl}/api/users/signup`, { body: { email, password: 'demo password' } });
  expectThat(signup.status === 201, `user signup: expected 201, got ${describe(signup)}`);
  const user = { id: signup.body.id, cookie: signup.cookie };
  step(`user signed up: ${email} (id ${user.id})`);

  const order = await call('POST', `${ordersUrl}/api/orders`, { body: { ticketId: 'demo-concert' }, cookie: user.cookie });
  expectThat(order.status === 201, `placing an order: expected 201, got ${describe(order)}`);
  step(`user ordered ticket demo-concert on orders: 201, order ${order.body.id} (orders checked the token itself)`);

  const banSent = performance.now();
  const ban = await call('POST', `${authUrl}/api/admin/users/${user.id}/ban`, { body: { reason: 'demo' }, cookie: admin.cookie });
  const banAnswered = performance.now();
  expectThat(ban.status === 200 && ban.body.banned === true, `banning the user: expected 200, got ${describe(ban)}`);
  const refused = await firstAnswer(`${ordersUrl}/api/orders`, user.cookie, 403, 'orders refusing the banned user');
  expectThat(errorOf(refused.answer) === 'User is banned', `orders refused the user, but with ${describe(refused.answer)}`);
  step(`admin banned the user; orders refused the user's next request with 403 "User is banned" ${ms(refused.at - banAnswered)} after the ban answered (${ms(refused.at - banSent)} after it was sent)`);

  const replica = await startOrdersReplica(run);
  const replicaAnswer = await call('GET', `${replica.url}/api/orders`, { cookie: user.cookie });
  expectThat(replicaAnswer.status === 403, `the fresh orders replica let the banned user in: ${describe(replicaAnswer)}`);
  step(`a fresh orders replica (pid ${replica.pid}) replayed the ban events, was ready in ${ms(replica.readyMs)}, and refused the user's first request with 403`);

  const unban = await call('POST', `${authUrl}/api/admin/users/${user.id}/unban`, { cookie: admin.cookie });
  expectThat(unban.status === 200 && unban.body.banned === false, `unbanning the user: expected 200, got ${describe(unban)}`);
  const stale = await call('GET', `${ordersUrl}/api/orders`, { cookie: user.cookie });
  expectThat(stale.status === 403, `after the unban, a token from before the ban was let in: ${describe(stale)}`);
  step('admin unbanned the user; the token from before the ban stays refused (403): an unban lets in only tokens issued after it');

  const signin = await call('POST', `${authUrl}/api/users/signin`, { body: { email, password: 'demo password' } });
  expectThat(signin.status === 200, `signing in again: expected 200, got ${describe(signin)}`);
  const orders = await call('GET', `${ordersUrl}/api/orders`, { cookie: signin.cookie });
  expectThat(orders.status === 200 && Array.isArray(orders.body) && orders.body.length === 1, `the new sign-in on orders: expected 200 with 1 order, got ${describe(orders)}`);
  const onReplica = await call('GET', `${replica.url}/api/orders`, { cookie: signin.cookie });
  expectThat(onReplica.status === 200, `the new sign-in on the fresh replica: expected 200, got ${describe(onReplica)}`);
  step(`user signed in again: orders answered 200 with their order, and so did the fresh replica`);
}

// Stopped halfway (Ctrl-C), it still stops the replica it started.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    process.stdout.write(`FAIL  stopped by ${signal}\n`);
    Promise.all(cleanups.splice(0).map((cleanup) => cleanup())).finally(() => process.exit(1));
  });
}

try {
  await demo();
  process.stdout.write('demo: every step behaved\n');
} catch (err) {
  process.stdout.write(`FAIL  ${err instanceof StepFailed ? err.message : err.stack}\n`);
  process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
