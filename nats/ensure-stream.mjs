#!/usr/bin/env node
// Creates the AUTH stream on $NATS_URL (default nats://127.0.0.1:4222), or raises its limits to the
// designed ones, with the same code auth runs at startup. It signs in as auth does, since only
// auth's NATS user may change the stream: NATS_NKEY_SEED_FILE, or credentials in NATS_URL.
// ACCESS_TOKEN_TTL and CLOCK_SKEW size its window, and AUTH_STREAM_REPLICAS its replicas, as they do
// auth's. Run `npm run build` first.
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats, ensureAuthStream } from '@ticketing/common/events';
import { configReader, createLogger, readNkeySeed } from '@ticketing/common/runtime';

const read = configReader(process.env);
const url = read.urls('NATS_URL', { protocols: ['nats:', 'tls:'], default: 'nats://127.0.0.1:4222' });
const windowMs = read.durationMs('ACCESS_TOKEN_TTL', { default: '15m' }) + read.durationMs('CLOCK_SKEW', { default: '30s' });
const logger = createLogger({ service: 'ensure-stream', level: 'warn' });
// Named as auth, since it signs in as auth: replies come to auth's inbox, the only one its user may read.
const nats = connectNats({ url, nkeySeed: readNkeySeed(process.env, url), name: 'auth', logger });
const timer = setTimeout(() => {
  process.stderr.write(`ensure-stream: could not reach NATS at ${url.replace(/\/\/[^@]*@/, '//***@')} within 10 s\n`);
  process.exit(1);
}, 10_000);
const jsm = await jetstreamManager(await nats.connection());
clearTimeout(timer);
const { config } = await ensureAuthStream(jsm, { windowMs, replicas: read.integer('AUTH_STREAM_REPLICAS', { default: 1, min: 1, max: 5 }) });
console.log(JSON.stringify({ name: config.name, subjects: config.subjects, storage: config.storage, max_age_s: config.max_age / 1e9, duplicate_window_s: config.duplicate_window / 1e9, replicas: config.num_replicas }));
await nats.close();
