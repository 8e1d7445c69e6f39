import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { isSameOriginRequest } from '@ticketing/common/http';
import { ANTI_FORGERY_FIELD, AntiForgery } from '../src/anti-forgery.js';

const KEY = 'k'.repeat(32);

/** Just what the anti-forgery check reads of a request and writes to a response. */
function exchange(headers: Record<string, string> = {}, body?: Record<string, unknown>) {
  const setCookies: string[] = [];
  const req = { headers, body, protocol: 'http', host: 'shop.example:3002' } as unknown as Request;
  const res = { locals: {}, append: (_name: string, value: string) => { setCookies.push(value); } } as unknown as Response;
  return { req, res, setCookies };
}

/** A nonce cookie and its form token, as a first page load hands them out. */
function issued(forgery: AntiForgery) {
  const { req, res, setCookies } = exchange();
  const token = forgery.tokenFor(req, res);
  return { cookie: setCookies[0]!.split(';')[0]!, token, setCookie: setCookies[0]! };
}

describe('AntiForgery', () => {
  const forgery = new AntiForgery({ key: KEY, production: false });

  it('hands out a nonce cookie and a token once per request, and accepts them together from this site', () => {
    const { req, res, setCookies } = exchange();
    const token = forgery.tokenFor(req, res);
    expect(forgery.tokenFor(req, res)).toBe(token);
    expect(setCookies).toHaveLength(1);
    expect(setCookies[0]).toMatch(/^csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = setCookies[0]!.split(';')[0]!;
    expect(forgery.verify(exchange({ cookie, 'sec-fetch-site': 'same-origin' }, { [ANTI_FORGERY_FIELD]: token }).req)).toBe('ok');
    // The browser's cookie is used as it is: no new one is set.
    const again = exchange({ cookie });
    expect(forgery.tokenFor(again.req, again.res)).toBe(token);
    expect(again.setCookies).toEqual([]);
  });

  it('refuses a missing, malformed, repeated or foreign token, and a missing or malformed cookie', () => {
    const { cookie, token } = issued(forgery);
    const other = issued(forgery);
    const verdict = (headers: Record<string, string>, body?: Record<string, unknown>) => forgery.verify(exchange(headers, body).req);
    expect(verdict({ cookie })).toBe('no token');
    expect(verdict({ cookie }, { [ANTI_FORGERY_FIELD]: [token, token] })).toBe('no token');
    expect(verdict({ cookie }, { [ANTI_FORGERY_FIELD]: `${token}x` })).toBe('no token');
    expect(verdict({ cookie }, { [ANTI_FORGERY_FIELD]: other.token })).toBe('wrong token');
    expect(verdict({}, { [ANTI_FORGERY_FIELD]: token })).toBe('no cookie');
    expect(verdict({ cookie: 'csrf=short' }, { [ANTI_FORGERY_FIELD]: token })).toBe('no cookie');
    // Another key (another deployment) signs other tokens.
    expect(new AntiForgery({ key: 'x'.repeat(32), production: false }).verify(exchange({ cookie }, { [ANTI_FORGERY_FIELD]: token }).req)).toBe('wrong token');
  });

  it('refuses a request another site sent, whatever it carries', () => {
    const { cookie, token } = issued(forgery);
    const body = { [ANTI_FORGERY_FIELD]: token };
    for (const site of ['cross-site', 'same-site']) expect(forgery.verify(exchange({ cookie, 'sec-fetch-site': site }, body).req)).toBe('cross-site');
    expect(forgery.verify(exchange({ cookie, origin: 'http://evil.example' }, body).req)).toBe('cross-site');
    expect(forgery.verify(exchange({ cookie, origin: 'http://SHOP.example:3002' }, body).req)).toBe('ok');
  });

  it('uses a __Host- cookie that only HTTPS carries in production, and renews the nonce on request', () => {
    const production = new AntiForgery({ key: KEY, production: true });
    const { setCookie, token } = issued(production);
    expect(setCookie).toMatch(/^__Host-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    const { res, setCookies } = exchange({ cookie: setCookie.split(';')[0]! });
    production.renew(res);
    expect(setCookies[0]).not.toBe(setCookie);
    // The old token does not match the new nonce.
    expect(production.verify(exchange({ cookie: setCookies[0]!.split(';')[0]! }, { [ANTI_FORGERY_FIELD]: token }).req)).toBe('wrong token');
  });
});

describe('isSameOriginRequest', () => {
  it('believes Sec-Fetch-Site first, then Origin, and a request with neither came from no page', () => {
    const same = (headers: Record<string, string>) => isSameOriginRequest(exchange(headers).req);
    expect(same({ 'sec-fetch-site': 'same-origin', origin: 'http://evil.example' })).toBe(true);
    expect(same({ 'sec-fetch-site': 'none' })).toBe(true);
    expect(same({ 'sec-fetch-site': 'cross-site', origin: 'http://shop.example:3002' })).toBe(false);
    expect(same({ origin: 'http://shop.example:3002' })).toBe(true);
    expect(same({ origin: 'null' })).toBe(false);
    expect(same({})).toBe(true);
  });
});
