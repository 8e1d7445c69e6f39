import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '@ticketing/common/http';
import { capturingLogger, createTestDatabase, freePort, postJson, sessionCookieOf, startNatsServer, TEST_JWT_KEY, waitFor, type NatsServer, type TestDatabase } from '@ticketing/testing';
import { createClientApp, PAGE_SECURITY_HEADERS } from '../../client/src/app.js';
import { loadConfig } from '../../client/src/config.js';
import { startService, type ServiceProcess } from './service-process.js';
import { metric } from './support/faults.js';

// The web client's pages and forms over HTTP, as a browser without script sends them: the client
// app in this process, auth and orders as real processes on real PostgreSQL and NATS. Every
// input a visitor controls gets a malformed value here, and the answer is a page with a 4xx.
let nats: NatsServer;
let authDb: TestDatabase;
let ordersDb: TestDatabase;
let auth: ServiceProcess;
let orders: ServiceProcess;
let app: Express;
const logs = capturingLogger();
const ADMIN_EMAIL = 'console@example.com';
const PASSWORD = 'password1';

beforeAll(async () => {
  [nats, authDb, ordersDb] = await Promise.all([startNatsServer(), createTestDatabase(), createTestDatabase()]);
  const env = { JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url };
  [auth, orders] = await Promise.all([
    startService('auth', { ...env, DATABASE_URL: authDb.url, ADMIN_EMAILS: ADMIN_EMAIL, AUTH_RATE_LIMIT: '1000' }),
    startService('orders', { ...env, DATABASE_URL: ordersDb.url }),
  ]);
  const config = loadConfig({
    AUTH_URL: auth.url,
    ORDERS_URL: orders.url,
    ANTI_FORGERY_KEY: randomBytes(32).toString('base64url'),
    BAN_METRICS_URLS: `orders=${orders.metricsUrl}/metrics,gone=http://127.0.0.1:${await freePort()}/metrics`,
  });
  app = createClientApp({ config, logger: logs.logger, metrics: createMetrics({ service: 'client' }) });
});
afterAll(async () => {
  await Promise.all([auth, orders].map((service) => service?.stop()));
  await Promise.all([nats?.destroy(), authDb?.drop(), ordersDb?.drop()]);
});

/** A browser without script: a cookie jar, and forms posted from this site with the token of the page they came from. */
function visitor() {
  const agent = request.agent(app);
  let token = '';
  const load = async (path: string) => {
    const res = await agent.get(path);
    token = /name="_csrf" value="([^"]+)"/.exec(res.text)?.[1] ?? token;
    return res;
  };
  const post = (path: string, form: Record<string, string | string[]> = {}) =>
    agent.post(path).type('form').set('Sec-Fetch-Site', 'same-origin').send({ _csrf: token, ...form });
  return { agent, load, post, get token() { return token; } };
}

async function signedUp(email: string) {
  const browser = visitor();
  await browser.load('/signup');
  const res = await browser.post('/signup', { email, password: PASSWORD });
  expect(res.status).toBe(303);
  await browser.load('/');
  return browser;
}

const idOf = async (email: string) => {
  const res = await postJson(`${auth.url}/api/users/signin`, { email, password: PASSWORD });
  return ((await res.json()) as { id: string }).id;
};

describe('pages', () => {
  it('carry a strict Content Security Policy and the security headers, and no script', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    for (const [name, value] of Object.entries(PAGE_SECURITY_HEADERS)) expect(res.headers[name.toLowerCase()]).toBe(value);
    expect(res.headers['content-security-policy']).not.toMatch(/unsafe|script-src/);
    expect(res.text).not.toMatch(/<script|\sstyle=|\son\w+=/i);
    const styles = await request(app).get('/styles.css');
    expect(styles.status).toBe(200);
    expect(styles.headers['content-type']).toMatch(/^text\/css/);
    expect((await request(app).get('/styles.css').set('If-None-Match', styles.headers.etag!)).status).toBe(304);
    const missing = await request(app).get('/no/such/page');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('There is no such page.');
  });

  it('say which service is unavailable when one does not answer, and the health routes stay up', async () => {
    const config = loadConfig({ AUTH_URL: `http://127.0.0.1:${await freePort()}`, ANTI_FORGERY_KEY: 'k'.repeat(32), UPSTREAM_TIMEOUT: '2s' });
    const offline = createClientApp({ config, logger: logs.logger, metrics: createMetrics({ service: 'client' }) });
    const res = await request(offline).get('/');
    expect(res.status).toBe(503);
    expect(res.text).toContain('The auth service is unavailable');
    expect((await request(offline).get('/healthz/ready')).status).toBe(200);
  });

  it('hand the browser the session auth refreshed even when orders did not answer, so the rotated refresh token is not lost', async () => {
    const signup = await postJson(`${auth.url}/api/users/signup`, { email: 'rotated@example.com', password: PASSWORD });
    const refresh = signup.headers.getSetCookie().find((cookie) => cookie.startsWith('refresh='))!.split(';')[0]!;
    const config = loadConfig({ AUTH_URL: auth.url, ORDERS_URL: `http://127.0.0.1:${await freePort()}`, ANTI_FORGERY_KEY: 'k'.repeat(32) });
    const ordersDown = createClientApp({ config, logger: logs.logger, metrics: createMetrics({ service: 'client' }) });
    const res = await request(ordersDown).get('/orders').set('Cookie', refresh);
    expect(res.status).toBe(503);
    expect(res.text).toContain('The orders service is unavailable');
    const cookies = res.headers['set-cookie'] as unknown as string[];
    const rotated = cookies.find((cookie) => cookie.startsWith('refresh='))!.split(';')[0]!;
    expect(rotated).not.toBe(refresh);
    expect(cookies.some((cookie) => cookie.startsWith('session='))).toBe(true);
    // The rotated token is the one that counts now.
    expect((await request(app).get('/').set('Cookie', rotated)).text).toContain('rotated@example.com');
  });
});

describe('forms', () => {
  it('refuse a form without its token, with another visitor\'s, or sent from another site, before any service sees it', async () => {
    const browser = visitor();
    await browser.load('/signup');
    const other = visitor();
    await other.load('/signup');
    const form = { email: 'forged@example.com', password: PASSWORD };
    const attempts = [
      browser.agent.post('/signup').type('form').set('Sec-Fetch-Site', 'same-origin').send(form),
      browser.post('/signup', { ...form, _csrf: other.token }),
      browser.post('/signup', { ...form, _csrf: [browser.token, browser.token] }),
      browser.agent.post('/signup').type('form').set('Sec-Fetch-Site', 'cross-site').send({ ...form, _csrf: browser.token }),
      browser.agent.post('/signup').type('form').set('Origin', 'http://evil.example').send({ ...form, _csrf: browser.token }),
      browser.agent.post('/signup').set('Sec-Fetch-Site', 'same-origin').send({ ...form, _csrf: browser.token }),
      request(app).post('/signup').type('form').set('Sec-Fetch-Site', 'same-origin').send({ ...form, _csrf: browser.token }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(res.text).toContain('This form has expired or came from another site.');
    }
    expect((await postJson(`${auth.url}/api/users/signin`, form)).status).toBe(400);
    expect(logs.lines().filter((line) => line.audit === 'anti_forgery.refused').map((line) => line.why))
      .toEqual(expect.arrayContaining(['no token', 'wrong token', 'cross-site', 'no cookie']));
  });

  it('show each service error next to its field, and echo what was typed as text', async () => {
    const browser = visitor();
    await browser.load('/signup');
    const hostile = '"><img src=x onerror=alert(1)>';
    const res = await browser.post('/signup', { email: hostile, password: 'short' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(res.text).not.toContain('<img');
    expect(res.text).toMatch(/<span class="field-error" id="email-error">[^<]+<\/span>/);
    expect(res.text).toMatch(/<span class="field-error" id="password-error">[^<]+<\/span>/);
    const repeated = await browser.post('/signup', { email: ['a@example.com', 'b@example.com'], password: PASSWORD });
    expect(repeated.status).toBe(400);
    expect(repeated.text).toMatch(/id="email-error"/);
    const taken = await signedUp('taken@example.com');
    expect(taken).toBeDefined();
    const again = await browser.post('/signup', { email: 'taken@example.com', password: PASSWORD });
    expect(again.status).toBe(409);
    expect(again.text).toContain('Email in use');
  });

  it('answer an oversized, undecodable or unknown form with a 4xx page', async () => {
    const browser = visitor();
    await browser.load('/signup');
    const big = await browser.post('/signup', { email: 'x'.repeat(20_000), password: PASSWORD });
    expect(big.status).toBe(413);
    expect(big.text).toContain('The form is too large.');
    const charset = await browser.agent.post('/signup').set('Content-Type', 'application/x-www-form-urlencoded; charset=koi8-r').set('Sec-Fetch-Site', 'same-origin').send(`_csrf=${browser.token}`);
    expect(charset.status).toBe(415);
    const undecodable = await browser.agent.post('/signup').type('form').set('Sec-Fetch-Site', 'same-origin').send(`_csrf=${browser.token}&email=%E0%A4%A&password=%`);
    expect(undecodable.status).toBe(400);
    expect((await browser.agent.get('/%E0%A4%A')).status).toBe(404);
  });
});

describe('sessions', () => {
  it('show the signed-in user on the first page load, and refresh a session from the refresh cookie alone, passing the cookies on', async () => {
    const browser = visitor();
    await browser.load('/signup');
    const res = await browser.post('/signup', { email: 'first@example.com', password: PASSWORD });
    expect(res.headers.location).toBe('/');
    const cookies = res.headers['set-cookie'] as unknown as string[];
    expect(cookies.map((cookie) => cookie.split('=')[0])).toEqual(expect.arrayContaining(['session', 'refresh', 'csrf']));
    expect((await browser.load('/')).text).toContain('<strong id="current-email">first@example.com</strong>');

    const refresh = cookies.find((cookie) => cookie.startsWith('refresh='))!.split(';')[0]!;
    const page = await request(app).get('/').set('Cookie', refresh);
    expect(page.text).toContain('first@example.com');
    const renewed = page.headers['set-cookie'] as unknown as string[];
    expect(renewed.some((cookie) => cookie.startsWith('session='))).toBe(true);
    expect(renewed.some((cookie) => cookie.startsWith('refresh=') && !cookie.startsWith(refresh))).toBe(true);
  });

  it('sign out, and sign out everywhere, ending the session in every browser', async () => {
    const first = await signedUp('leaving@example.com');
    const second = visitor();
    await second.load('/signin');
    expect((await second.post('/signin', { email: 'leaving@example.com', password: PASSWORD })).status).toBe(303);
    expect((await first.post('/signout')).headers.location).toBe('/');
    expect((await first.load('/')).text).not.toContain('leaving@example.com');
    expect((await second.load('/')).text).toContain('leaving@example.com');
    expect((await second.post('/signout-all')).headers.location).toBe('/');
    expect((await second.load('/')).text).not.toContain('leaving@example.com');
  });
  it('send the refresh token to auth alone: orders gets the session and nothing else of the browser\'s cookies', async () => {
    // Orders here is a recorder of what reaches it, so the headers the client sends can be read.
    const seen: (string | undefined)[] = [];
    const recorder = createServer((req, res) => {
      seen.push(req.headers.cookie);
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const config = loadConfig({ AUTH_URL: auth.url, ORDERS_URL: `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`, ANTI_FORGERY_KEY: 'k'.repeat(32) });
      const recorded = createClientApp({ config, logger: logs.logger, metrics: createMetrics({ service: 'client' }) });
      const signup = await postJson(`${auth.url}/api/users/signup`, { email: 'least@example.com', password: PASSWORD });
      const cookies = signup.headers.getSetCookie().map((cookie) => cookie.split(';')[0]!);
      const session = sessionCookieOf(signup);
      const res = await request(recorded).get('/orders').set('Cookie', [...cookies, 'csrf=x', 'other=y'].join('; '));
      expect(res.status).toBe(200);
      expect(seen).toEqual([session]);
    } finally {
      await new Promise((resolve) => recorder.close(resolve));
    }
  });

  it('believe no session cookie sent twice (one planted by another host, say), nor one too long to be a session', async () => {
    const sessionOf = async (email: string) => {
      const res = await postJson(`${auth.url}/api/users/signin`, { email, password: PASSWORD });
      return sessionCookieOf(res);
    };
    await signedUp('planted@example.com');
    await signedUp('mallory@example.com');
    const [genuine, planted] = await Promise.all([sessionOf('planted@example.com'), sessionOf('mallory@example.com')]);
    expect((await request(app).get('/orders').set('Cookie', genuine)).status).toBe(200);
    // The planted cookie comes first (its path is narrower), the victim's own second: neither is believed.
    const page = await request(app).get('/orders').set('Cookie', `${planted}; ${genuine}`);
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/signin');
    const huge = await request(app).get('/').set('Cookie', `session=${'a'.repeat(15_000)}`);
    expect(huge.status).toBe(200);
    expect(huge.text).toContain('<a href="/signin">Sign in</a>');
  });
});

describe('orders', () => {
  it('places and cancels orders, and answers a malformed ticket or order id with the service\'s error on the page', async () => {
    const browser = await signedUp('orderer@example.com');
    expect((await browser.load('/orders')).text).toContain('No orders yet.');
    const bad = await browser.post('/orders', { ticketId: 'no spaces allowed' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/<span class="field-error" id="ticketId-error">ticketId must be/);
    expect(bad.text).toContain('value="no spaces allowed"');
    expect((await browser.post('/orders', { ticketId: 'seat-1' })).headers.location).toBe('/orders');
    const list = await browser.load('/orders');
    const id = /data-order="([^"]+)"/.exec(list.text)![1]!;
    for (const [orderId, status, message] of [
      ['not-a-uuid', 400, 'Order id must be a UUID'], ['00000000-0000-4000-8000-000000000000', 404, 'Order not found'],
      ['%2E%2E', 404, 'There is no such order.'], ['%2e', 404, 'There is no such order.'],
    ] as const) {
      const res = await browser.post(`/orders/${orderId}/cancel`);
      expect(res.status).toBe(status);
      expect(res.text).toContain(message);
    }
    expect((await browser.post(`/orders/${id}/cancel`)).status).toBe(303);
    expect((await browser.load('/orders')).text).toContain('<span class="state cancelled">cancelled</span>');
    const twice = await browser.post(`/orders/${id}/cancel`);
    expect(twice.status).toBe(400);
    expect(twice.text).toContain('Order is already cancelled');
  });

  it('sends a visitor who is not signed in to sign in', async () => {
    expect((await request(app).get('/orders')).headers.location).toBe('/signin');
    const browser = visitor();
    await browser.load('/signin');
    const res = await browser.post('/orders', { ticketId: 'seat-2' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/signin');
  });
});

describe('the admin console', () => {
  it('is for admins only', async () => {
    expect((await request(app).get('/admin')).headers.location).toBe('/signin');
    const user = await signedUp('curious@example.com');
    const res = await user.load('/admin');
    expect(res.status).toBe(403);
    expect(res.text).toContain('The admin console is for admins.');
    expect((await user.post(`/admin/users/${await idOf('curious@example.com')}/unban`)).status).toBe(403);
  });

  it('answers a malformed search, state, reason or user id with a 4xx page', async () => {
    const admin = await signedUp(ADMIN_EMAIL);
    for (const query of ['q=%01', `q=${'a'.repeat(255)}`, 'q=a&q=b', 'state=everyone', 'state=banned&state=all']) {
      const res = await admin.load(`/admin?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.text).toContain('The search must be one line');
    }
    await signedUp('target@example.com');
    const target = await idOf('target@example.com');
    await admin.load('/admin');
    const empty = await admin.post(`/admin/users/${target}/ban`, { reason: '' });
    expect(empty.status).toBe(400);
    expect(empty.text).toMatch(/<span class="field-error" id="reason-error">[^<]+<\/span>/);
    const climbing = await admin.post('/admin/users/%2E%2E/ban', { reason: 'spam' });
    expect(climbing.status).toBe(404);
    expect(climbing.text).toContain('There is no such user.');
    const malformed = await admin.post('/admin/users/not-a-uuid/ban', { reason: 'spam' });
    expect(malformed.status).toBe(400);
    expect(malformed.text).toContain('<p class="alert bad" role="alert">');
    const self = await admin.post(`/admin/users/${await idOf(ADMIN_EMAIL)}/ban`, { reason: 'spam' });
    expect(self.status).toBe(403);
  });

  it('finds a user, bans them with a reason, shows how long the ban took to reach orders, and the user is refused', async () => {
    const admin = await signedUp(ADMIN_EMAIL).catch(async () => {
      const browser = visitor();
      await browser.load('/signin');
      await browser.post('/signin', { email: ADMIN_EMAIL, password: PASSWORD });
      return browser;
    });
    const user = await signedUp('banned-here@example.com');
    const id = await idOf('banned-here@example.com');
    const found = await admin.load(`/admin?q=${id.toUpperCase()}`);
    expect(found.text.match(/<tr data-email=/g)).toHaveLength(1);
    const res = await admin.post(`/admin/users/${id}/ban`, { reason: '<b>scalping</b>', q: 'banned-here', state: 'all' });
    expect(res.headers.location).toBe('/admin?q=banned-here');
    await waitFor(async () => (await metric(orders, /^ban_events_applied_total\{.*subject="auth\.user\.banned".*result="applied"/)) >= 1, { timeoutMs: 10_000, what: 'orders to apply the ban' });
    const page = await admin.load('/admin?q=banned-here&state=banned');
    expect(page.text).toContain('<span class="state banned">banned</span> <span class="muted">&lt;b&gt;scalping&lt;/b&gt;</span>');
    expect(page.text).toMatch(/<div class="lag" data-service="orders"><span>orders<\/span><strong>[\d.]+ (ms|s)<\/strong>/);
    expect(page.text).toMatch(/<div class="lag" data-service="gone"><span>gone<\/span><strong>—<\/strong><span class="muted">metrics unavailable<\/span>/);
    const refused = await user.load('/orders');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('id="banned"');
  });
});

describe('when auth is down', () => {
  it('the orders page still works from the token alone, and pages that need auth say it is unavailable', async () => {
    const browser = await signedUp('resilient@example.com');
    expect((await browser.post('/orders', { ticketId: 'seat-9' })).status).toBe(303);
    await auth.stop();
    const list = await browser.load('/orders');
    expect(list.status).toBe(200);
    expect(list.text).toContain('seat-9');
    const home = await browser.load('/');
    expect(home.status).toBe(503);
    expect(home.text).toContain('The auth service is unavailable');
  });
});
