#!/usr/bin/env node
// Creates the AUTH stream on $NATS_URL (default nats://127.0.0.1:4222), or raises its limits to the
// designed ones, with the same code the services run at startup. Run `npm run build` first.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ensureAuthStream, loadServiceConfig } from '@ticketing/common';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const { accessTokenTtlMs, clockSkewMs } = loadServiceConfig({ JWT_KEY: 'x'.repeat(32), ...process.env, NATS_URL: url }, { port: 0, dataDir: '' });
const nc = await connect({ servers: url });
const jsm = await jetstreamManager(nc);
const { config } = await ensureAuthStream(jsm, { windowMs: accessTokenTtlMs + clockSkewMs, replicas: Number(process.env.STREAM_REPLICAS ?? 1) });
console.log(JSON.stringify({ name: config.name, subjects: config.subjects, storage: config.storage, max_age_s: config.max_age / 1e9, duplicate_window_s: config.duplicate_window / 1e9, replicas: config.num_replicas }));
await nc.close();
