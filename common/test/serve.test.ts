import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, it, expect } from 'vitest';
import { closeGracefully, HEADERS_TIMEOUT_MS, listen, REQUEST_TIMEOUT_MS } from '../src/runtime/serve.js';

/** An app whose /slow route answers only when the test lets it. */
function slowApp() {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((resolve) => { arrived = resolve; });
  let finish!: () => void;
  const released = new Promise<void>((resolve) => { finish = resolve; });
  const app = express();
  app.get('/slow', async (_req, res) => {
    arrived();
    await released;
    res.json({ done: true });
  });
  app.get('/fast', (_req, res) => {
    res.json({ fast: true });
  });
  return { app, requestArrived, finish };
}

/** GET over node:http with the agent given (`false`: one connection per request, then closed). */
function get(port: number, path: string, agent: http.Agent | false): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    }).on('error', reject);
  });
}

/** 'settled' when `promise` settles within `ms`, else 'timed out' (a bounded wait, not a sleep). */
function within(promise: Promise<unknown>, ms: number): Promise<'settled' | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timed out'>((resolve) => { timer = setTimeout(() => resolve('timed out'), ms); });
  return Promise.race([promise.then(() => 'settled' as const, () => 'settled' as const), deadline]).finally(() => clearTimeout(timer));
}

describe('listen', () => {
  it('resolves once the server accepts connections on a free port', async () => {
    const { app } = slowApp();
    const server = await listen(app, 0);
    try {
      const { port } = server.address() as AddressInfo;
      expect(port).toBeGreaterThan(0);
      expect(await get(port, '/fast', false)).toEqual({ status: 200, body: { fast: true } });
    } finally {
      await closeGracefully(server, { timeoutMs: 1000, cleanup: async () => undefined });
    }
  });

  it('bounds how long a client may take to send its headers and its request', async () => {
    const server = await listen(slowApp().app, 0);
    try {
      expect(server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
      expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
      expect(REQUEST_TIMEOUT_MS).toBeLessThanOrEqual(15_000);
    } finally {
      await closeGracefully(server, { timeoutMs: 1000, cleanup: async () => undefined });
    }
  });

  it('rejects when the port is taken', async () => {
    const { app } = slowApp();
    const first = await listen(app, 0);
    try {
      const { port } = first.address() as AddressInfo;
      await expect(listen(app, port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await closeGracefully(first, { timeoutMs: 1000, cleanup: async () => undefined });
    }
  });
});

describe('closeGracefully', () => {
  it('lets a request in flight finish, refuses new ones, then runs cleanup', async () => {
    const { app, requestArrived, finish } = slowApp();
    const server = await listen(app, 0);
    const { port } = server.address() as AddressInfo;
    const inFlight = get(port, '/slow', false);
    await requestArrived;

    const events: string[] = [];
    const closed = closeGracefully(server, {
      timeoutMs: 10_000,
      cleanup: async () => {
        events.push('cleanup');
      },
    }).then(() => events.push('closed'));

    await expect(get(port, '/fast', false)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(events).toEqual([]);
    finish();
    expect(await inFlight).toEqual({ status: 200, body: { done: true } });
    await closed;
    expect(events).toEqual(['cleanup', 'closed']);
    expect(server.listening).toBe(false);
  });

  it('closes a keep-alive connection once its request in flight has finished', async () => {
    // A client (an ingress, a fetch) keeps its connection open after the answer; draining must not
    // wait for that idle connection until the force timeout.
    const { app, requestArrived, finish } = slowApp();
    const server = await listen(app, 0);
    const { port } = server.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true });
    try {
      const inFlight = get(port, '/slow', agent);
      await requestArrived;
      let cleaned = false;
      const closed = closeGracefully(server, { timeoutMs: 10_000, cleanup: async () => { cleaned = true; } });
      finish();
      expect(await inFlight).toEqual({ status: 200, body: { done: true } });
      expect(await within(closed, 1000)).toBe('settled');
      expect(cleaned).toBe(true);
    } finally {
      server.closeAllConnections();
      agent.destroy();
    }
  });

  it('cuts a request that outlasts the timeout, then runs cleanup', async () => {
    const { app, requestArrived, finish } = slowApp();
    const server = await listen(app, 0);
    const { port } = server.address() as AddressInfo;
    const inFlight = get(port, '/slow', false).then(() => 'answered', () => 'cut');
    await requestArrived;
    let cleaned = false;
    await closeGracefully(server, { timeoutMs: 50, cleanup: async () => { cleaned = true; } });
    expect(cleaned).toBe(true);
    expect(await inFlight).toBe('cut');
    finish();
  });

  it('rejects when cleanup fails', async () => {
    const { app } = slowApp();
    const server = await listen(app, 0);
    await expect(closeGracefully(server, { timeoutMs: 1000, cleanup: async () => { throw new Error('nats close failed'); } }))
      .rejects.toThrow('nats close failed');
  });
});
