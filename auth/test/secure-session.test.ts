import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { Express } from 'express';
import type { Logger } from '@ticketing/common';
import { capturingLogger } from '@ticketing/testing';
import type { PasswordHasher } from '../src/password-hasher.js';
import { HTTPS_REQUIRED_LOG } from '../src/routes/require-https.js';
import { authAppWith, countingHasher, startAuth, type TestAuth } from './start-auth.js';

const HTTPS_REQUIRED_BODY = { errors: [{ message: 'HTTPS is required to sign in' }] };

// The app from startAuth in production behind one trusted proxy hop (TRUST_PROXY=1): secure
// cookies, and the hop's X-Forwarded-Proto says whether the client spoke TLS to it.
let auth: TestAuth;
const captured = capturingLogger();
beforeAll(async () => {
  auth = await startAuth({ NODE_ENV: 'production', TRUST_PROXY: '1' }, { logger: captured.logger });
});
afterAll(() => auth.close());

/** The attributes of the `session` cookie a response set, lowercased (`sessionCookieOf` keeps only name=value). */
function sessionAttributes(res: { headers: Record<string, unknown> }): string[] {
  const cookies = (res.headers['set-cookie'] ?? []) as string[];
  const session = cookies.find((cookie) => /^session=[^;]+/.test(cookie));
  if (session === undefined) throw new Error('response set no session cookie');
  return session.split(';').slice(1).map((attribute) => attribute.trim().toLowerCase());
}

const overHttp = (app: Express, path: string, body: object) => request(app).post(path).send(body);
const overHttps = (app: Express, path: string, body: object) => request(app).post(path).set('X-Forwarded-Proto', 'https').send(body);

async function countUsers(email: string): Promise<number> {
  const { rows } = await auth.db.query<{ count: string }>('SELECT count(*) AS count FROM users WHERE email = $1', [email]);
  return Number(rows[0]!.count);
}

function appFrom(options: { production: boolean; hasher: PasswordHasher; trustProxy?: number; logger?: Logger }): Express {
  return authAppWith(auth, {
    settings: { production: options.production, trustProxy: options.trustProxy ?? auth.config.trustProxy },
    hasher: options.hasher,
    logger: options.logger,
  });
}

describe('in production, signup and signin need HTTPS', () => {
  it('refuses a plain-HTTP signup with 403 and creates no user; the same signup over HTTPS gets 201 and a Secure cookie', async () => {
    const body = { email: 'plain-signup@example.com', password: 'password1' };
    const refused = await overHttp(auth.app, '/api/users/signup', body);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual(HTTPS_REQUIRED_BODY);
    expect(refused.headers['set-cookie']).toBeUndefined();
    expect(await countUsers(body.email)).toBe(0);

    const created = await overHttps(auth.app, '/api/users/signup', body);
    expect(created.status).toBe(201);
    expect(sessionAttributes(created)).toContain('secure');
    expect(await countUsers(body.email)).toBe(1);
  });

  it('names the refresh cookie __Host-refresh, Secure on /, so no sibling subdomain can plant one; refresh needs HTTPS too', async () => {
    const body = { email: 'host-refresh@example.com', password: 'password1' };
    const created = await overHttps(auth.app, '/api/users/signup', body);
    const line = ((created.headers['set-cookie'] ?? []) as unknown as string[]).find((cookie) => cookie.startsWith('__Host-refresh='))!;
    expect(line).toMatch(/^__Host-refresh=[A-Za-z0-9_-]{43}; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/);
    const cookie = line.split(';')[0]!;
    expect((await request(auth.app).post('/api/users/refresh').set('Cookie', cookie)).status).toBe(403);
    // A plain `refresh` cookie is not this one.
    expect((await request(auth.app).post('/api/users/refresh').set('X-Forwarded-Proto', 'https').set('Cookie', cookie.replace('__Host-refresh', 'refresh'))).status).toBe(401);
    expect((await request(auth.app).post('/api/users/refresh').set('X-Forwarded-Proto', 'https').set('Cookie', cookie)).status).toBe(200);
  });

  it('refuses a plain-HTTP signin with 403 and no cookie; the same signin over HTTPS gets 200 and a Secure cookie', async () => {
    const body = { email: 'plain-signin@example.com', password: 'password1' };
    await overHttps(auth.app, '/api/users/signup', body).expect(201);
    const refused = await overHttp(auth.app, '/api/users/signin', body);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual(HTTPS_REQUIRED_BODY);
    expect(refused.headers['set-cookie']).toBeUndefined();

    const signedIn = await overHttps(auth.app, '/api/users/signin', body);
    expect(signedIn.status).toBe(200);
    expect(sessionAttributes(signedIn)).toContain('secure');
  });

  it('refuses before any work: no password is hashed, and even a malformed body gets the 403', async () => {
    const hasher = countingHasher();
    const app = appFrom({ production: true, hasher });
    for (const path of ['/api/users/signup', '/api/users/signin']) {
      expect((await overHttp(app, path, { email: 'no-work@example.com', password: 'password1' })).status).toBe(403);
      expect((await overHttp(app, path, { email: 'not-an-email' })).status).toBe(403);
    }
    expect(hasher.calls).toBe(0);
    expect(await countUsers('no-work@example.com')).toBe(0);
  });

  it('logs the cause once, at error level, naming NODE_ENV, X-Forwarded-Proto and TRUST_PROXY, however many requests are refused', async () => {
    for (let i = 0; i < 3; i += 1) {
      expect((await overHttp(auth.app, '/api/users/signin', { email: 'again@example.com', password: 'password1' })).status).toBe(403);
    }
    // The tests above were refused by this app too: still one line.
    const reports = captured.lines().filter((line) => line.msg === HTTPS_REQUIRED_LOG);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ level: 50, protocol: 'http', forwardedProto: null });
    expect(HTTPS_REQUIRED_LOG).toContain('NODE_ENV=production');
    expect(HTTPS_REQUIRED_LOG).toContain('X-Forwarded-Proto: https');
    expect(HTTPS_REQUIRED_LOG).toContain('TRUST_PROXY');
  });
});

describe('in production with no proxy trusted (TRUST_PROXY unset)', () => {
  it('does not believe a client\'s X-Forwarded-Proto: https; signup and signin answer 403 and the cause is logged once', async () => {
    const hasher = countingHasher();
    const { logger, lines } = capturingLogger();
    const app = appFrom({ production: true, hasher, trustProxy: 0, logger });
    for (const path of ['/api/users/signup', '/api/users/signin']) {
      const res = await overHttps(app, path, { email: 'spoofed-proto@example.com', password: 'password1' });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(HTTPS_REQUIRED_BODY);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(hasher.calls).toBe(0);
    expect(await countUsers('spoofed-proto@example.com')).toBe(0);
    const reports = lines().filter((line) => line.msg === HTTPS_REQUIRED_LOG);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ level: 50, protocol: 'http', forwardedProto: 'https' });
  });

  it('serves the service\'s own TLS: a signin over it gets 200 and a Secure cookie', async () => {
    const hasher = countingHasher();
    const app = appFrom({ production: true, hasher, trustProxy: 0 });
    const body = { email: 'own-tls@example.com', password: 'password1' };
    await overHttps(auth.app, '/api/users/signup', body).expect(201);
    const server = http.createServer(app);
    // What the service's own TLS sets on each connection; express reads it for req.secure.
    server.on('connection', (socket) => Object.assign(socket, { encrypted: true }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const signedIn = await request(server).post('/api/users/signin').send(body);
      expect(signedIn.status).toBe(200);
      expect(sessionAttributes(signedIn)).toContain('secure');
    } finally {
      server.close();
    }
  });
});

describe('outside production', () => {
  it('signs up and in over plain HTTP, with a cookie that is not Secure', async () => {
    const hasher = countingHasher();
    const app = appFrom({ production: false, hasher });
    const body = { email: 'local@example.com', password: 'password1' };
    const created = await overHttp(app, '/api/users/signup', body);
    expect(created.status).toBe(201);
    expect(sessionAttributes(created)).not.toContain('secure');
    const signedIn = await overHttp(app, '/api/users/signin', body);
    expect(signedIn.status).toBe(200);
    expect(sessionAttributes(signedIn)).toContain('httponly');
  });
});
