// Shared by the bench scripts: argument parsing, statistics, service processes, and cleanup that
// runs on success, on failure, on SIGINT/SIGTERM and on an overall deadline.
import http from 'node:http';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { startServiceProcess } from '@ticketing/testing';
import { findExecutable } from '../scripts/prerequisites.mjs';

const require = createRequire(import.meta.url);

// nats-server where package managers put it (Debian: /usr/sbin), for the private servers benches start.
process.env.NATS_SERVER_BIN ||= findExecutable('nats-server') ?? '';

/** Reads `--name N` integer options (positive, or 0 for those in `zeroAllowed`); unknown flags are an error. */
export function intArgs(defaults, { zeroAllowed = [] } = {}) {
  const options = Object.fromEntries(Object.keys(defaults).map((name) => [name, { type: 'string' }]));
  const { values } = parseArgs({ options, strict: true });
  const out = {};
  for (const [name, fallback] of Object.entries(defaults)) {
    const text = values[name];
    if (text === undefined) { out[name] = fallback; continue; }
    if (!/^\d+$/.test(text) || Number(text) < (zeroAllowed.includes(name) ? 0 : 1)) throw new TypeError(`--${name} must be a ${zeroAllowed.includes(name) ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(text)}`);
    out[name] = Number(text);
  }
  return out;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0],
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
  };
}

export const median = (values) => summarize(values).p50;
export const round = (value, digits = 2) => Number(value.toFixed(digits));
export const roundAll = (obj, digits = 2) => Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, typeof v === 'number' && k !== 'n' ? round(v, digits) : v]));

export function machine() {
  return { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', platform: process.platform };
}

/**
 * Runs `main(cleanup)` where `cleanup.add(fn)` registers teardown steps (run last-in first-out).
 * Teardown runs after `main` settles, on SIGINT/SIGTERM, and when `deadlineMs` passes; then the
 * process exits (1 on any failure).
 */
export async function runBench(name, { deadlineMs }, main) {
  const steps = [];
  let tornDown;
  const teardown = () => {
    tornDown ??= (async () => {
      let ok = true;
      for (const step of steps.splice(0).reverse()) {
        try {
          await withTimeout(step(), 30_000, 'a cleanup step');
        } catch (err) {
          ok = false;
          console.error(`${name}: cleanup failed: ${err?.message ?? err}`);
        }
      }
      return ok;
    })();
    return tornDown;
  };
  const bail = async (why) => {
    console.error(`${name}: ${why}; cleaning up`);
    await teardown();
    process.exit(1);
  };
  process.once('SIGINT', () => void bail('interrupted'));
  process.once('SIGTERM', () => void bail('terminated'));
  const deadline = setTimeout(() => void bail(`overall deadline of ${deadlineMs} ms passed`), deadlineMs);
  let code = 0;
  try {
    await main({ add: (fn) => steps.push(fn) });
  } catch (err) {
    code = 1;
    // After an interrupt or the deadline, the failure is only the teardown pulling things away.
    if (tornDown === undefined) {
      console.error(`${name}: FAILED: ${err?.stack ?? err}`);
      if (err?.cause) console.error('cause:', err.cause);
    }
  }
  if (!(await teardown())) code = 1;
  clearTimeout(deadline);
  process.exit(code);
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Starts a built service (`auth`, `orders` or `client`) as a real process with `env`; see `startServiceProcess`
 * in `@ticketing/testing` (it picks its own port, resolves once `/healthz/ready` answers 200, and
 * `stop()` sends SIGTERM, then SIGKILL after 15 s).
 */
export function startService(name, env) {
  let main;
  try {
    main = require.resolve(`@ticketing/${name}`);
  } catch (err) {
    throw new Error(`@ticketing/${name} is not built: run npx tsc -b first`, { cause: err });
  }
  return startServiceProcess(main, env, { name });
}

/**
 * Background load from a process of its own (bench/load.mjs): autocannon with `options` (give it
 * a long `duration`). Resolves once it runs; `stop()` ends it and resolves with what it did
 * (`{ requests, rps, non2xx, errors, p50Ms, p99Ms }`).
 */
export async function startLoad(options) {
  const { fork } = await import('node:child_process');
  const child = fork(new URL('./load.mjs', import.meta.url), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const result = new Promise((resolve, reject) => {
    child.on('message', (message) => { if (message.result) resolve(message.result); });
    child.once('exit', (code) => reject(new Error(`background load exited with ${code} before reporting`)));
  });
  result.catch(() => undefined);
  await withTimeout(new Promise((resolve, reject) => {
    child.on('message', (message) => { if (message.started) resolve(); });
    child.once('exit', (code) => reject(new Error(`background load exited with ${code} before starting`)));
  }), 30_000, 'the background load to start');
  let stopped;
  return {
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null) child.send('stop');
        const done = await withTimeout(result, 30_000, 'the background load to report');
        await exited;
        return done;
      })();
      return stopped;
    },
    kill() {
      if (child.exitCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** The most requests a second `url` answers (autocannon, 50 connections, `seconds`), every answer a 2xx. */
export async function capacityOf(url, headers, seconds = 3) {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({ url, connections: 50, duration: seconds, headers });
  if (result.errors > 0 || result.non2xx > 0) throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx while measuring capacity`);
  return result.requests.total / result.duration;
}

/**
 * `GET url` with node:http over `agent` (kept-alive connections: less client work per request
 * than fetch); resolves with the status and the body as text.
 */
export function httpGet(url, { agent, headers = {} }) {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}
