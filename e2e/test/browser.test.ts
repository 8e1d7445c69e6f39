import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Subjects } from '@ticketing/common/events';
import { cookieWithJwt, createTestDatabase, jwtFromCookie, startNatsServer, TEST_JWT_KEY, waitFor, type NatsServer, type TestDatabase } from '@ticketing/testing';
import { startService, type ServiceProcess } from './service-process.js';
import { metric } from './support/faults.js';

// The web client in a real browser (Debian's Chromium, driven by playwright-core), in front of
// auth and orders as real processes on a real PostgreSQL and nats-server: what a user and an
// admin see, from signing up to being banned, unbanned and silently refreshed.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ADMIN_EMAIL = 'admin@example.com';
const USER_EMAIL = 'reader@example.com';
const PASSWORD = 'correct horse battery';

let nats: NatsServer;
let authDb: TestDatabase;
let ordersDb: TestDatabase;
let auth: ServiceProcess;
let orders: ServiceProcess;
let client: ServiceProcess;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  [nats, authDb, ordersDb] = await Promise.all([startNatsServer(), createTestDatabase(), createTestDatabase()]);
  const env = { JWT_KEY: TEST_JWT_KEY, NATS_URL: nats.url };
  [auth, orders] = await Promise.all([
    startService('auth', { ...env, DATABASE_URL: authDb.url, ADMIN_EMAILS: ADMIN_EMAIL }),
    startService('orders', { ...env, DATABASE_URL: ordersDb.url }),
  ]);
  client = await startService('client', {
    AUTH_URL: auth.url,
    ORDERS_URL: orders.url,
    ANTI_FORGERY_KEY: randomBytes(32).toString('base64url'),
    BAN_METRICS_URLS: `auth=${auth.metricsUrl}/metrics,orders=${orders.metricsUrl}/metrics`,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic'],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([client, auth, orders].map((service) => service?.stop()));
  await Promise.all([nats?.destroy(), authDb?.drop(), ordersDb?.drop()]);
});

/** Submits the form the button is in and returns the status of the page the browser ends on. */
async function submit(page: Page, button: string): Promise<number> {
  const [response] = await Promise.all([page.waitForEvent('response', (res) => res.request().isNavigationRequest() && res.status() !== 303), page.click(button)]);
  await page.waitForLoadState('domcontentloaded');
  return response.status();
}

async function load(page: Page, path: string): Promise<number> {
  const response = await page.goto(`${client.url}${path}`);
  return response!.status();
}

async function signUpOrIn(page: Page, kind: 'signup' | 'signin', email: string): Promise<number> {
  expect(await load(page, `/${kind}`)).toBe(200);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  return submit(page, 'form.stack button[type=submit]');
}

const eventsApplied = (subject: string) => metric(orders, new RegExp(`^ban_events_applied_total\\{.*subject="${subject.replaceAll('.', '\\.')}".*result="applied"`));

it('signs up, orders, is banned and unbanned by an admin, signs in again, and stays signed in after the access token expired', async () => {
  const started = performance.now();
  const user: BrowserContext = await browser.newContext();
  // A step that finds nothing fails in seconds, saying which.
  user.setDefaultTimeout(10_000);
  const page = await user.newPage();

  // Signing up through the form, with no script on the page; a fresh load shows the user at once.
  const consoleErrors: string[] = [];
  // A page answered with 400 or 403 is the browser's error to log; a refused script or style, or a missing resource, is not.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (400|403) /.test(message.text())) consoleErrors.push(message.text());
  });
  expect(await signUpOrIn(page, 'signup', 'not-an-email')).toBe(400);
  expect(await page.textContent('#email-error')).toMatch(/email/i);
  expect(await signUpOrIn(page, 'signup', USER_EMAIL)).toBe(200);
  const fresh = await user.newPage();
  expect(await load(fresh, '/')).toBe(200);
  expect(await fresh.textContent('#current-email')).toBe(USER_EMAIL);
  await fresh.close();

  // An order, and a malformed one whose error shows next to its field.
  expect(await load(page, '/orders')).toBe(200);
  await page.fill('#ticketId', 'not a ticket!');
  expect(await submit(page, 'form.stack button[type=submit]')).toBe(400);
  expect(await page.textContent('#ticketId-error')).toBe('ticketId must be 1 to 64 letters, digits, - or _');
  await page.fill('#ticketId', 'concert-42');
  expect(await submit(page, 'form.stack button[type=submit]')).toBe(200);
  expect(await page.textContent('#orders')).toContain('concert-42');

  // The admin, in a browser of their own, finds the user and bans them with a reason.
  const admin = await browser.newContext();
  admin.setDefaultTimeout(10_000);
  const console = await admin.newPage();
  expect(await signUpOrIn(console, 'signup', ADMIN_EMAIL)).toBe(200);
  expect(await load(console, `/admin?q=${encodeURIComponent(USER_EMAIL.toUpperCase())}`)).toBe(200);
  const row = `tr[data-email="${USER_EMAIL}"]`;
  expect(await console.locator('#users tbody tr').count()).toBe(1);
  await console.fill(`${row} input[name=reason]`, 'Reselling <tickets> & "spam"');
  expect(await submit(console, `${row} button.danger`)).toBe(200);
  expect(await console.textContent(`${row} .state`)).toBe('banned');
  expect(await console.textContent(row)).toContain('Reselling <tickets> & "spam"');

  // Orders refuses the user's still-valid token once the ban event reached it; the console says how long that took.
  await waitFor(async () => (await eventsApplied(Subjects.UserBanned)) === 1, { timeoutMs: 10_000, what: 'orders to apply the ban' });
  expect(await load(console, '/admin')).toBe(200);
  expect(await console.textContent('.lag[data-service=orders] strong')).toMatch(/^\d+(\.\d)? (ms|s)$/);
  const screenshots = mkdtempSync(join(tmpdir(), 'ticketing-browser-'));
  const screenshot = join(screenshots, 'admin-console.png');
  await console.screenshot({ path: screenshot, fullPage: true });
  process.stdout.write(`admin console screenshot: ${screenshot}\n`);

  // The user's next page load: refused, and told why.
  expect(await load(page, '/orders')).toBe(403);
  expect(await page.textContent('#banned')).toMatch(/banned/);
  expect(await page.locator('#orders').count()).toBe(0);
  expect(await load(page, '/')).toBe(200);
  expect(await page.locator('#current-email').count()).toBe(0);
  expect(await signUpOrIn(page, 'signin', USER_EMAIL)).toBe(403);
  expect(await page.textContent('#banned')).toMatch(/banned/);
  expect(await page.locator('[role=alert]').count()).toBe(1);

  // Unbanned, the user signs in again and sees their order.
  expect(await load(console, '/admin?state=banned')).toBe(200);
  expect(await submit(console, `${row} button[type=submit]`)).toBe(200);
  // Back on the same filter, where the user is no longer listed.
  expect(new URL(console.url()).search).toBe('?state=banned');
  expect(await console.locator(row).count()).toBe(0);
  expect(await load(console, `/admin?q=${encodeURIComponent(USER_EMAIL)}`)).toBe(200);
  expect(await console.textContent(`${row} .state`)).toBe('active');
  await waitFor(async () => (await eventsApplied(Subjects.UserUnbanned)) === 1, { timeoutMs: 10_000, what: 'orders to apply the unban' });
  expect(await signUpOrIn(page, 'signin', USER_EMAIL)).toBe(200);
  expect(await page.textContent('#current-email')).toBe(USER_EMAIL);
  expect(await load(page, '/orders')).toBe(200);
  expect(await page.textContent('#orders')).toContain('concert-42');

  // The access token expires (here: the same claims, signed as expired); the refresh cookie keeps the user signed in.
  const session = (await user.cookies(client.url)).find((cookie) => cookie.name === 'session')!;
  const claims = jwt.decode(jwtFromCookie(`session=${session.value}`)) as jwt.JwtPayload;
  const now = Math.floor(Date.now() / 1000);
  const expired = jwt.sign({ ...claims, iat: now - 1200, exp: now - 300 }, TEST_JWT_KEY, { algorithm: 'HS256' });
  await user.addCookies([{ ...session, value: cookieWithJwt(expired).slice('session='.length) }]);
  expect(await load(page, '/orders')).toBe(200);
  expect(await page.textContent('#current-email')).toBe(USER_EMAIL);
  expect(await page.textContent('#orders')).toContain('concert-42');
  const refreshed = (await user.cookies(client.url)).find((cookie) => cookie.name === 'session')!;
  const renewed = jwt.decode(jwtFromCookie(`session=${refreshed.value}`)) as jwt.JwtPayload;
  expect(renewed.exp).toBeGreaterThan(now);
  expect(await load(page, '/')).toBe(200);
  expect(await page.textContent('#current-email')).toBe(USER_EMAIL);

  // No page ran into its Content Security Policy, nor any other error.
  expect(consoleErrors).toEqual([]);
  process.stdout.write(`browser scenario: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  await Promise.all([user.close(), admin.close()]);
}, 120_000);
