import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '@ticketing/testing';
import { healthRoutes, NotReadyError, type ReadinessCheck } from '@ticketing/common';

/** A check that throws whatever `state.failure` holds, or holds when it is undefined. */
function switchable() {
  const state: { failure: unknown } = { failure: undefined };
  const check: ReadinessCheck = async () => {
    if (state.failure !== undefined) throw state.failure;
  };
  return { state, check };
}

function app(checks: Record<string, ReadinessCheck>) {
  const { logger, lines } = capturingLogger();
  return { app: express().use(healthRoutes(checks, { logger })), lines };
}

/** A pg error, with the kind of detail that must stay out of a public answer. */
const pgError = () => Object.assign(new Error('password authentication failed for user "orders" at 10.0.3.7:5432'), { code: '28P01' });

describe('GET /healthz/live', () => {
  it('answers 200 whatever the checks say', async () => {
    const { app: live } = app({ database: () => { throw pgError(); } });
    const res = await request(live).get('/healthz/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('GET /healthz/ready', () => {
  it('answers 200 when every check holds', async () => {
    const { app: ready } = app({ database: async () => undefined, bans: () => undefined });
    const res = await request(ready).get('/healthz/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
  });

  it('answers 503 "<check>: not ready" to an error of any other kind, never its message', async () => {
    const { app: ready } = app({ database: () => { throw pgError(); }, cache: () => Promise.reject(new TypeError('x is undefined')), bans: () => undefined });
    const res = await request(ready).get('/healthz/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ errors: [{ message: 'database: not ready' }, { message: 'cache: not ready' }] });
    expect(res.text).not.toMatch(/password|10\.0\.3\.7|28P01|undefined/);
  });

  it('shows the message of a NotReadyError, which is meant to be public', async () => {
    const { app: ready } = app({ database: () => undefined, bans: () => { throw new NotReadyError('replaying recent ban events'); } });
    const res = await request(ready).get('/healthz/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ errors: [{ message: 'bans: replaying recent ban events' }] });
  });

  it('answers "not ready" to a thrown value that is not an Error at all', async () => {
    // A check written carelessly.
    const { app: ready } = app({ queue: () => { throw 'down'; } });
    const res = await request(ready).get('/healthz/ready');
    expect(res.body).toEqual({ errors: [{ message: 'queue: not ready' }] });
  });

  it('logs the raw error at warn with the check name, once per change of state, and the recovery', async () => {
    const database = switchable();
    const bans = switchable();
    const { app: ready, lines } = app({ database: database.check, bans: bans.check });
    const probe = () => request(ready).get('/healthz/ready');
    const logged = () => lines().map(({ level, msg, check, err, reason }) =>
      ({ level, msg, check, ...(err ? { err: (err as { message: string }).message } : {}), ...(reason ? { reason } : {}) }));

    await probe().expect(200);
    expect(lines()).toEqual([]);

    database.state.failure = pgError();
    await probe().expect(503);
    await probe().expect(503);
    expect(logged()).toEqual([{ level: 40, msg: 'readiness check failed', check: 'database', err: pgError().message }]);

    bans.state.failure = new NotReadyError('replaying recent ban events');
    await probe().expect(503);
    await probe().expect(503);
    bans.state.failure = new NotReadyError('NATS unreachable; ban list not caught up');
    await probe().expect(503);
    database.state.failure = undefined;
    bans.state.failure = undefined;
    await probe().expect(200);
    await probe().expect(200);
    expect(logged().slice(1)).toEqual([
      { level: 30, msg: 'readiness check not ready', check: 'bans', reason: 'replaying recent ban events' },
      { level: 30, msg: 'readiness check not ready', check: 'bans', reason: 'NATS unreachable; ban list not caught up' },
      { level: 30, msg: 'readiness check ready again', check: 'database' },
      { level: 30, msg: 'readiness check ready again', check: 'bans' },
    ]);
    // The raw error, stack and driver code included, is in the log (never in the answer).
    expect(lines()[0]!.err).toMatchObject({ message: pgError().message, code: '28P01', stack: expect.any(String) });
  });

  it('still answers without a logger', async () => {
    const res = await request(express().use(healthRoutes({ database: () => { throw pgError(); } }))).get('/healthz/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ errors: [{ message: 'database: not ready' }] });
  });
});
