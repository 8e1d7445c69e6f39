import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { cookieWithJwt, cookieWithSession, jwtFromCookie, TEST_JWT_KEY } from '@ticketing/testing';
import { startOrders, type TestOrders } from '../../orders/test/start-orders.js';
import { ADMIN_EMAIL, startAuth, type TestAuth } from '../../auth/test/start-auth.js';
import { signup } from '../../auth/test/signup.js';

// A table of hostile inputs against the auth and orders apps (in this process, on real PostgreSQL
// and a nats-server of their own): tokens, cookies, headers, bodies, ids, route params and query
// strings. Each gets its documented answer, a 4xx with the error body and never a 500; afterwards
// both apps still answer, and no user, order or event was made or changed.
let auth: TestAuth;
let orders: TestOrders;
let user: { id: string; cookie: string };
let admin: { id: string; cookie: string };
beforeAll(async () => {
  auth = await startAuth();
  orders = await startOrders({ natsUrl: auth.config.natsUrl });
  admin = await signup(auth, ADMIN_EMAIL);
  user = await signup(auth, 'target@example.com');
});
afterAll(async () => {
  await orders?.close();
  await auth?.close();
});

const ISSUER = 'ticketing-auth';
const nowSeconds = () => Math.floor(Date.now() / 1000);
const claims = () => ({ id: user.id, email: 'target@example.com', role: 'user' });
/** A token signed with the shared test key (or `key`), with `extra` claims and `options`. */
function token(extra: Record<string, unknown> = {}, options: jwt.SignOptions = {}, key: string = TEST_JWT_KEY): string {
  // An option given as undefined is left out (jsonwebtoken refuses one that is present but undefined).
  const settings = Object.fromEntries(Object.entries({ algorithm: 'HS256', issuer: ISSUER, expiresIn: 600, ...options }).filter(([, value]) => value !== undefined));
  return jwt.sign({ ...claims(), ...extra }, key, settings as jwt.SignOptions);
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unsigned = (header: Record<string, unknown>, payload: Record<string, unknown>) => `${b64(header)}.${b64(payload)}.`;
const validPayload = () => ({ ...claims(), iss: ISSUER, iat: nowSeconds(), exp: nowSeconds() + 600 });

type Case = {
  name: string;
  app: 'auth' | 'orders';
  method: 'get' | 'post';
  path: string;
  headers?: Record<string, string>;
  /** Sent as is when a string (with the headers' content type), as JSON otherwise. */
  body?: string | Buffer | object;
  status: number;
  message?: string | RegExp;
};

const NOT_SIGNED_IN = 'Not authenticated';
const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

/** Tokens: every way a token can be wrong, against a route that needs one. */
function tokenCases(): Case[] {
  const refused = (name: string, value: () => string): Case => ({ name: `token: ${name}`, app: 'orders', method: 'get', path: '/api/orders', headers: bearer(value()), status: 401, message: NOT_SIGNED_IN });
  const inCookie = (name: string, value: () => string): Case => ({ name: `token in the cookie: ${name}`, app: 'orders', method: 'get', path: '/api/orders', headers: { cookie: cookieWithJwt(value()) }, status: 401, message: NOT_SIGNED_IN });
  const bad: [string, () => string][] = [
    ['alg none', () => unsigned({ alg: 'none', typ: 'JWT' }, validPayload())],
    ['alg NONE', () => unsigned({ alg: 'NONE', typ: 'JWT' }, validPayload())],
    ['HS512 with the right key', () => token({}, { algorithm: 'HS512' })],
    ['HS384 with the right key', () => token({}, { algorithm: 'HS384' })],
    ['another key', () => token({}, {}, 'x'.repeat(40))],
    ['the key with one byte changed', () => token({}, {}, `${TEST_JWT_KEY.slice(0, -1)}X`)],
    ['expired an hour ago', () => token({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }, { expiresIn: undefined })],
    ['issued an hour in the future', () => token({ iat: nowSeconds() + 3600, exp: nowSeconds() + 4200 }, { expiresIn: undefined })],
    ['not valid before a day from now', () => token({}, { notBefore: 86_400 })],
    ['a lifetime of a year', () => token({}, { expiresIn: 365 * 86_400 })],
    ['no exp', () => token({}, { expiresIn: undefined })],
    ['another issuer', () => token({}, { issuer: 'evil' })],
    ['no issuer', () => jwt.sign({ ...claims() }, TEST_JWT_KEY, { algorithm: 'HS256', expiresIn: 600 })],
    ['a crit header', () => token({}, { header: { alg: 'HS256', crit: ['exp'] } as jwt.JwtHeader })],
    ['a jku header pointing elsewhere, signed with another key', () => token({}, { header: { alg: 'HS256', jku: 'https://evil.example/jwks' } as jwt.JwtHeader }, 'e'.repeat(40))],
    ['a jwk header carrying its own key', () => token({}, { header: { alg: 'HS256', jwk: { kty: 'oct', k: Buffer.from('e'.repeat(40)).toString('base64url') } } as jwt.JwtHeader }, 'e'.repeat(40))],
    ['an id that is not a UUID', () => token({ id: 'admin' })],
    ['an id that is a UUID with a NUL after it', () => token({ id: `${user.id}\u0000` })],
    ['an id that is a number', () => token({ id: 42 })],
    ['role superuser', () => token({ role: 'superuser' })],
    ['role as an array', () => token({ role: ['admin'] })],
    ['no email', () => token({ email: undefined })],
    ['claims as an array', () => `${b64({ alg: 'HS256' })}.${b64([1, 2])}.sig`],
    ['a payload that is not JSON', () => `${b64({ alg: 'HS256' })}.${Buffer.from('not json').toString('base64url')}.sig`],
    ['a header that is not JSON', () => `${Buffer.from('{').toString('base64url')}.${b64(validPayload())}.sig`],
    ['two parts', () => `${b64({ alg: 'HS256' })}.${b64(validPayload())}`],
    ['four parts', () => `${token()}.extra`],
    ['a valid token with its signature cut', () => token().split('.').slice(0, 2).join('.') + '.'],
    ['a valid token with a flipped signature byte', () => { const t = token(); return `${t.slice(0, -2)}${t.at(-2) === 'A' ? 'B' : 'A'}${t.at(-1)}`; }],
    ['8 000 characters of garbage', () => 'a'.repeat(8_000)],
    ['the empty string after the scheme', () => ''],
    ['spaces in it', () => 'a b c'],
  ];
  // Headers a token brings are never used: a well-signed token with them is just a token (documented).
  const ignored = (name: string, value: () => string): Case => ({ name: `token: ${name} (ignored)`, app: 'orders', method: 'get', path: '/api/orders', headers: bearer(value()), status: 200 });
  return [
    ...bad.map(([name, value]) => refused(name, value)),
    ...bad.slice(0, 12).map(([name, value]) => inCookie(name, value)),
    ignored('a kid under HS256 naming nothing', () => token({}, { keyid: '../../etc/passwd' })),
    ignored('a jku header, signed with the right key', () => token({}, { header: { alg: 'HS256', jku: 'https://evil.example/jwks' } as jwt.JwtHeader })),
  ];
}

/** Cookies and Authorization headers that are not what they should be. */
function headerCases(): Case[] {
  const orders = (name: string, headers: Record<string, string>): Case => ({ name, app: 'orders', method: 'get', path: '/api/orders', headers, status: 401, message: NOT_SIGNED_IN });
  return [
    orders('cookie: not base64', { cookie: 'session=%%%not-base64%%%' }),
    orders('cookie: base64 of not JSON', { cookie: `session=${Buffer.from('not json').toString('base64')}` }),
    orders('cookie: JSON without jwt', { cookie: cookieWithSession({ token: 'x' }) }),
    orders('cookie: jwt as a number', { cookie: cookieWithSession({ jwt: 42 }) }),
    orders('cookie: jwt as an object', { cookie: cookieWithSession({ jwt: { alg: 'none' } }) }),
    orders('cookie: jwt as an array', { cookie: cookieWithSession({ jwt: ['a', 'b'] }) }),
    orders('cookie: __proto__ pollution', { cookie: `session=${Buffer.from('{"__proto__":{"jwt":"x"}}').toString('base64')}` }),
    orders('cookie: empty', { cookie: 'session=' }),
    orders('cookie: 4 000 characters', { cookie: `session=${'A'.repeat(4_000)}` }),
    orders('Authorization: Bearer with nothing', { authorization: 'Bearer' }),
    orders('Authorization: Bearer with two tokens', { authorization: `Bearer ${'a'.repeat(20)} ${'b'.repeat(20)}` }),
    orders('Authorization: bearer in lower case with garbage', { authorization: 'bearer garbage' }),
    orders('Authorization: Bearer garbage beside a good cookie (no fallback)', { authorization: 'Bearer garbage', cookie: 'PLACEHOLDER_GOOD_COOKIE' }),
    orders('Authorization: Basic only', { authorization: 'Basic dXNlcjpwYXNz' }),
    orders('Authorization: a token with no scheme', { authorization: 'eyJhbGciOiJIUzI1NiJ9.e30.sig' }),
    orders('Authorization: 8 000 characters', { authorization: `Bearer ${'x'.repeat(8_000)}` }),
    { name: 'a state-changing request from another site (Origin)', app: 'orders', method: 'post', path: '/api/orders', headers: { cookie: 'PLACEHOLDER_GOOD_COOKIE', origin: 'https://evil.example' }, body: { ticketId: 'x' }, status: 403, message: 'Cross-site request refused' },
    { name: 'a state-changing request from another site (Sec-Fetch-Site)', app: 'orders', method: 'post', path: '/api/orders', headers: { cookie: 'PLACEHOLDER_GOOD_COOKIE', 'sec-fetch-site': 'cross-site' }, body: { ticketId: 'x' }, status: 403, message: 'Cross-site request refused' },
    { name: 'a cross-site signup (login CSRF)', app: 'auth', method: 'post', path: '/api/users/signup', headers: { origin: 'https://evil.example' }, body: { email: 'csrf@example.com', password: 'password1' }, status: 403, message: 'Cross-site request refused' },
    { name: 'Origin: null on a cookie POST', app: 'orders', method: 'post', path: '/api/orders', headers: { cookie: 'PLACEHOLDER_GOOD_COOKIE', origin: 'null' }, body: { ticketId: 'x' }, status: 403, message: 'Cross-site request refused' },
  ];
}

/** Bodies: media types, charsets, encodings, sizes, nesting, prototype keys, type confusion. */
function bodyCases(): Case[] {
  const post = (name: string, body: Case['body'], headers: Record<string, string>, status: number, message?: string | RegExp): Case =>
    ({ name: `body: ${name}`, app: 'orders', method: 'post', path: '/api/orders', headers: { cookie: 'PLACEHOLDER_GOOD_COOKIE', ...headers }, body, status, message });
  const json = { 'content-type': 'application/json' };
  return [
    post('malformed JSON', '{"ticketId":', json, 400, 'Malformed JSON body'),
    post('a trailing comma', '{"ticketId":"a",}', json, 400, 'Malformed JSON body'),
    post('a BOM before malformed JSON', '\ufeff{"ticketId":', json, 400, 'Malformed JSON body'),
    post('text/plain', 'ticketId=a', { 'content-type': 'text/plain' }, 415, 'Request body must be UTF-8 JSON'),
    post('a form', 'ticketId=a', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'Request body must be UTF-8 JSON'),
    post('multipart', '--x\r\n\r\na\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }, 415, 'Request body must be UTF-8 JSON'),
    post('charset utf-16', '{"ticketId":"a"}', { 'content-type': 'application/json; charset=utf-16' }, 415),
    post('charset utf-7', '{"ticketId":"a"}', { 'content-type': 'application/json; charset=utf-7' }, 415),
    post('an unknown Content-Encoding', '{"ticketId":"a"}', { ...json, 'content-encoding': 'br2' }, 415),
    post('gzip claimed, not gzip', '{"ticketId":"a"}', { ...json, 'content-encoding': 'gzip' }, 400),
    post('gzip of 64 kB of JSON (too large once inflated)', gzipSync(Buffer.from(JSON.stringify({ ticketId: 'a', pad: 'x'.repeat(64_000) }))), { ...json, 'content-encoding': 'gzip' }, 413),
    post('17 kB of JSON', JSON.stringify({ ticketId: 'a', pad: 'x'.repeat(17_000) }), json, 413, 'Request body too large'),
    post('5 000 levels of nesting', `${'['.repeat(5_000)}${']'.repeat(5_000)}`, json, 400),
    post('an array', '[{"ticketId":"a"}]', json, 400),
    post('a string', '"a"', json, 400),
    post('null', 'null', json, 400),
    post('a number', '42', json, 400),
    post('ticketId a number', { ticketId: 42 }, {}, 400),
    post('ticketId an array', { ticketId: ['a'] }, {}, 400),
    post('ticketId an object', { ticketId: { $ne: null } }, {}, 400),
    post('ticketId null', { ticketId: null }, {}, 400),
    post('ticketId empty', { ticketId: '' }, {}, 400),
    post('ticketId 65 characters', { ticketId: 'a'.repeat(65) }, {}, 400),
    post('ticketId with a slash', { ticketId: '../etc' }, {}, 400),
    post('ticketId with a NUL', { ticketId: 'a\u0000b' }, {}, 400),
    post('ticketId with a newline', { ticketId: 'a\nb' }, {}, 400),
    post('ticketId with SQL', { ticketId: "a'; DROP TABLE orders; --" }, {}, 400),
    post('ticketId in full-width letters', { ticketId: 'ａｂｃ' }, {}, 400),
    post('only __proto__', '{"__proto__":{"ticketId":"a"}}', json, 400),
    post('only constructor.prototype', '{"constructor":{"prototype":{"ticketId":"a"}}}', json, 400),
    post('a lone surrogate as ticketId', '{"ticketId":"\\ud800"}', json, 400),
  ];
}

/** Ids, route params and query strings. */
function routeCases(): Case[] {
  const get = (app: Case['app'], path: string, status: number, who: 'user' | 'admin' = 'user', message?: string | RegExp): Case =>
    ({ name: `route: ${app} GET ${path}`, app, method: 'get', path, headers: { cookie: who === 'admin' ? 'PLACEHOLDER_ADMIN_COOKIE' : 'PLACEHOLDER_GOOD_COOKIE' }, status, message });
  const ban = (id: string, status: number, message?: string | RegExp): Case =>
    ({ name: `route: ban ${JSON.stringify(id)}`, app: 'auth', method: 'post', path: `/api/admin/users/${id}/ban`, headers: { cookie: 'PLACEHOLDER_ADMIN_COOKIE' }, body: { reason: 'x' }, status, message });
  return [
    get('orders', '/api/orders/not-a-uuid', 400, 'user', 'Order id must be a UUID'),
    get('orders', '/api/orders/%00', 400),
    get('orders', '/api/orders/%ZZ', 400),
    get('orders', '/api/orders/..%2f..%2fetc%2fpasswd', 400),
    get('orders', `/api/orders/${'a'.repeat(2_000)}`, 400),
    get('orders', '/api/orders/00000000-0000-0000-0000-000000000000', 404, 'user', 'Order not found'),
    get('orders', '/api/orders/3F2A6C1E-5B7D-4E8F-9A0B-1C2D3E4F5A6B', 404, 'user', 'Order not found'),
    get('orders', '/api/orders/{3f2a6c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b}', 400),
    get('orders', '/api/orders/3f2a6c1e5b7d4e8f9a0b1c2d3e4f5a6b', 400),
    get('orders', '/api/orders?limit=%00&__proto__[x]=1', 200),
    get('auth', '/api/admin/users?banned=maybe', 400, 'admin'),
    get('auth', '/api/admin/users?banned=true&banned=false', 400, 'admin'),
    get('auth', '/api/admin/users?banned=true&banned=true', 400, 'admin'),
    // Keys it does not know (no nested objects are parsed from a query) are ignored.
    get('auth', '/api/admin/users?banned[$ne]=true&__proto__[admin]=1', 200, 'admin'),
    get('auth', '/api/admin/users?limit=-1', 400, 'admin'),
    get('auth', '/api/admin/users?limit=0', 400, 'admin'),
    get('auth', '/api/admin/users?limit=501', 400, 'admin'),
    get('auth', '/api/admin/users?limit=1e309', 400, 'admin'),
    get('auth', '/api/admin/users?limit=abc', 400, 'admin'),
    get('auth', '/api/admin/users?limit=1.5', 400, 'admin'),
    get('auth', '/api/admin/users?offset=-5', 400, 'admin'),
    get('auth', '/api/admin/users?limit=1&limit=2', 400, 'admin'),
    get('auth', '/api/admin/users', 403, 'user', 'Forbidden'),
    ban('not-a-uuid', 400, 'User id must be a UUID'),
    ban('%00', 400),
    ban(`${'f'.repeat(36)}`, 400),
    ban('11111111-1111-4111-8111-111111111111', 404, 'User not found'),
    { name: 'route: ban with a reason of 501 characters', app: 'auth', method: 'post', path: 'PLACEHOLDER_BAN_TARGET', headers: { cookie: 'PLACEHOLDER_ADMIN_COOKIE' }, body: { reason: 'x'.repeat(501) }, status: 400 },
    { name: 'route: ban with a reason holding ESC', app: 'auth', method: 'post', path: 'PLACEHOLDER_BAN_TARGET', headers: { cookie: 'PLACEHOLDER_ADMIN_COOKIE' }, body: { reason: 'a\u001b[2Kb' }, status: 400 },
    { name: 'route: ban with a reason as an object', app: 'auth', method: 'post', path: 'PLACEHOLDER_BAN_TARGET', headers: { cookie: 'PLACEHOLDER_ADMIN_COOKIE' }, body: { reason: { toString: 'x' } }, status: 400 },
    { name: 'route: ban by a plain user', app: 'auth', method: 'post', path: 'PLACEHOLDER_BAN_TARGET', headers: { cookie: 'PLACEHOLDER_GOOD_COOKIE' }, body: { reason: 'x' }, status: 403, message: 'Forbidden' },
  ];
}

/** Credentials and sessions on auth. */
function authCases(): Case[] {
  const signup = (name: string, body: Case['body'], status = 400): Case => ({ name: `signup: ${name}`, app: 'auth', method: 'post', path: '/api/users/signup', body, status });
  const signin = (name: string, body: Case['body'], status = 400): Case => ({ name: `signin: ${name}`, app: 'auth', method: 'post', path: '/api/users/signin', body, status });
  const refresh = (name: string, body: Case['body'], status: number): Case =>
    ({ name: `refresh: ${name}`, app: 'auth', method: 'post', path: '/api/users/refresh', headers: { 'x-token-delivery': 'body' }, body, status });
  return [
    signup('email missing', { password: 'password1' }),
    signup('email not an email', { email: 'not-an-email', password: 'password1' }),
    signup('email an array', { email: ['a@example.com'], password: 'password1' }),
    signup('email of 2 000 characters', { email: `${'a'.repeat(2_000)}@example.com`, password: 'password1' }),
    signup('password of 7 characters', { email: 'short@example.com', password: 'short12' }),
    signup('password of 129 characters', { email: 'long@example.com', password: 'p'.repeat(129) }),
    signup('password a number', { email: 'num@example.com', password: 12345678 }),
    signup('an existing email in another case', { email: 'TARGET@Example.com', password: 'password1' }, 409),
    signup('role smuggled in', { email: 'target@example.com', password: 'password1', role: 'admin' }, 409),
    signin('wrong password', { email: 'target@example.com', password: 'wrong-password' }),
    signin('unknown email', { email: 'nobody@example.com', password: 'password1' }),
    signin('password as an object', { email: 'target@example.com', password: { $gt: '' } }),
    signin('email as an object', { email: { $regex: '.*' }, password: 'password1' }),
    refresh('a token that is not a string', { refreshToken: 42 }, 400),
    refresh('a token of 2 000 characters', { refreshToken: 'a'.repeat(2_000) }, 400),
    refresh('a token that was never issued', { refreshToken: 'A'.repeat(43) }, 401),
    refresh('no token in the body', {}, 400),
    { name: 'refresh: a cookie that was never issued', app: 'auth', method: 'post', path: '/api/users/refresh', headers: { cookie: `refresh=${'A'.repeat(43)}` }, status: 401, message: 'Invalid or expired refresh token' },
    { name: 'currentuser with a garbage cookie', app: 'auth', method: 'get', path: '/api/users/currentuser', headers: { cookie: 'session=garbage; refresh=garbage' }, status: 200 },
  ];
}

async function counts(): Promise<Record<string, number>> {
  const one = async (db: TestAuth['db'], sql: string) => (await db.query<{ n: number }>(sql)).rows[0]!.n;
  return {
    users: await one(auth.db, 'SELECT count(*)::int AS n FROM users'),
    bannedOrChanged: await one(auth.db, 'SELECT coalesce(sum(ban_version + sessions_version), 0)::int AS n FROM users'),
    outbox: await one(auth.db, 'SELECT count(*)::int AS n FROM outbox'),
    orders: await one(orders.db, 'SELECT count(*)::int AS n FROM orders'),
  };
}

it('answers each of over 100 hostile inputs as documented, never with a 500, and changes nothing', async () => {
  // Made here, once the users exist: the tokens name them.
  const cases = [...tokenCases(), ...headerCases(), ...bodyCases(), ...routeCases(), ...authCases()];
  expect(cases.length).toBeGreaterThanOrEqual(100);
  const target = await signup(auth, 'ban-target@example.com');
  const before = await counts();
  const fill = (value: string) => value
    .replace('PLACEHOLDER_GOOD_COOKIE', user.cookie)
    .replace('PLACEHOLDER_ADMIN_COOKIE', admin.cookie)
    .replace('PLACEHOLDER_BAN_TARGET', `/api/admin/users/${target.id}/ban`);
  const wrong: string[] = [];
  for (const hostile of cases) {
    const app = hostile.app === 'auth' ? auth.app : orders.app;
    let req = request(app)[hostile.method](fill(hostile.path));
    for (const [name, value] of Object.entries(hostile.headers ?? {})) req = req.set(name, fill(value));
    if (hostile.body !== undefined) {
      // Strings and bytes go as they are, whatever the content type says.
      if (typeof hostile.body === 'string' || Buffer.isBuffer(hostile.body)) req = req.serialize((raw: unknown) => raw as string).send(hostile.body as string);
      else req = req.send(hostile.body);
    }
    const res = await req;
    const body = res.body as { errors?: { message: unknown; field?: unknown }[] };
    const problems: string[] = [];
    if (res.status !== hostile.status) problems.push(`status ${res.status}, not ${hostile.status}`);
    if (res.status >= 400) {
      const shaped = Array.isArray(body.errors) && body.errors.length > 0
        && body.errors.every((error) => typeof error.message === 'string' && (error.field === undefined || typeof error.field === 'string'))
        && Object.keys(body).length === 1;
      if (!shaped) problems.push(`body ${JSON.stringify(res.body)} is not the error body`);
      if (hostile.message !== undefined && !body.errors?.some((error) => (typeof hostile.message === 'string' ? error.message === hostile.message : hostile.message!.test(String(error.message))))) {
        problems.push(`message ${JSON.stringify(body.errors)} is not ${String(hostile.message)}`);
      }
      if (JSON.stringify(res.body).includes('Something went wrong')) problems.push('a 500 body');
    }
    if (problems.length > 0) wrong.push(`${hostile.name}: ${problems.join('; ')}`);
  }
  expect(wrong).toEqual([]);
  // Both apps still answer, and nothing was made or changed.
  expect((await request(auth.app).get('/healthz/live')).status).toBe(200);
  expect((await request(orders.app).get('/healthz/live')).status).toBe(200);
  expect(await counts()).toEqual(before);
  // The user's own token still works: nothing above signed them out.
  expect((await request(orders.app).get('/api/orders').set('Cookie', user.cookie)).status).toBe(200);
  expect(jwtFromCookie(user.cookie)).toMatch(/^ey/);
}, 120_000);
