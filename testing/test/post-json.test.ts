import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postJson } from '@ticketing/testing';

const received: { method?: string; type?: string; cookie?: string; body: string }[] = [];
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
  req.on('end', () => {
    received.push({ method: req.method, type: req.headers['content-type'], cookie: req.headers.cookie, body });
    res.writeHead(201).end();
  });
});
let url: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('POSTs the body as JSON, with the cookie only when one is given', async () => {
  expect((await postJson(url, { reason: 'spam' }, 'session=abc')).status).toBe(201);
  expect((await postJson(url, {})).status).toBe(201);
  expect(received).toEqual([
    { method: 'POST', type: 'application/json', cookie: 'session=abc', body: '{"reason":"spam"}' },
    { method: 'POST', type: 'application/json', cookie: undefined, body: '{}' },
  ]);
});
