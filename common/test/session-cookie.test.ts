import cookieSession from 'cookie-session';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sessionJwtOf } from '../src/http/session-cookie.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** What cookie-session itself makes of a Cookie header: the `jwt` of `req.session`. */
const cookieSessionApp = express()
  .use(cookieSession({ name: 'session', signed: false }))
  .get('/', (req, res) => {
    const jwt: unknown = req.session?.jwt;
    res.json({ jwt: jwt === undefined ? '(undefined)' : jwt });
  });

const HEADERS: [string, string][] = [
  ['a session', `session=${b64('{"jwt":"a.b.c"}')}`],
  ['among other cookies', `theme=dark; session=${b64('{"jwt":"a.b.c"}')}; lang=en`],
  ['without a space after the semicolon', `theme=dark;session=${b64('{"jwt":"a.b.c"}')}`],
  ['twice: the first counts', `session=${b64('{"jwt":"first"}')}; session=${b64('{"jwt":"second"}')}`],
  ['a cookie whose name ends in session', `xsession=${b64('{"jwt":"x"}')}; session=${b64('{"jwt":"mine"}')}`],
  ['only a cookie whose name ends in session', `xsession=${b64('{"jwt":"x"}')}`],
  ['quoted', `session="${b64('{"jwt":"quoted"}')}"`],
  ['base64url', `session=${Buffer.from('{"jwt":"a.b.c?>"}').toString('base64url')}`],
  ['empty', 'session='],
  ['not base64', 'session=%%%'],
  ['not JSON', `session=${b64('not json')}`],
  ['a JSON string', `session=${b64('"a.b.c"')}`],
  ['JSON null', `session=${b64('null')}`],
  ['a JSON array', `session=${b64('["a.b.c"]')}`],
  ['a number jwt', `session=${b64('{"jwt":12}')}`],
  ['an object jwt', `session=${b64('{"jwt":{"a":1}}')}`],
  ['a null jwt', `session=${b64('{"jwt":null}')}`],
  ['no jwt', `session=${b64('{"other":"a.b.c"}')}`],
  ['a __proto__ key', `session=${b64('{"__proto__":{"jwt":"inherited"}}')}`],
  ['a jwt beside __proto__', `session=${b64('{"__proto__":{"x":1},"jwt":"own"}')}`],
  ['other cookies only', 'theme=dark; lang=en'],
  ['spaces before the name', `   session=${b64('{"jwt":"spaced"}')}`],
  ['a space before the equals sign', `session =${b64('{"jwt":"no"}')}`],
  ['UTF-8 inside', `session=${b64('{"jwt":"é.ü.✓"}')}`],
  ['invalid UTF-8 inside', `session=${Buffer.from([0x7b, 0x22, 0x6a, 0x77, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('base64')}`],
];

describe('sessionJwtOf', () => {
  it.each(HEADERS)('reads the session cookie as cookie-session does: %s', async (_name, header) => {
    const { body } = await request(cookieSessionApp).get('/').set('Cookie', header);
    const ours = sessionJwtOf(header, 'session');
    expect(ours === undefined ? '(undefined)' : ours).toEqual(body.jwt);
  });

  it('finds nothing without a header', () => {
    expect(sessionJwtOf(undefined, 'session')).toBeUndefined();
    expect(sessionJwtOf('', 'session')).toBeUndefined();
  });
});
