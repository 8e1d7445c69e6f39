import { describe, expect, it } from 'vitest';
import { cookieWithJwt, cookieWithSession, jwtFromCookie, sessionCookieOf } from '@ticketing/testing';

const SET_COOKIES = ['theme=dark; Path=/', 'session=eyJqd3QiOiJhLmIuYyJ9; Path=/; HttpOnly; SameSite=Lax'];

describe('sessionCookieOf', () => {
  it('reads the session pair a fetch Response set', () => {
    const headers = new Headers();
    for (const cookie of SET_COOKIES) headers.append('set-cookie', cookie);
    expect(sessionCookieOf(new Response(null, { status: 201, headers }))).toBe('session=eyJqd3QiOiJhLmIuYyJ9');
  });

  it('reads the session pair a supertest response set', () => {
    expect(sessionCookieOf({ status: 200, headers: { 'set-cookie': SET_COOKIES } })).toBe('session=eyJqd3QiOiJhLmIuYyJ9');
  });

  it('throws, naming the status, when the response set no session cookie', () => {
    expect(() => sessionCookieOf({ status: 400, headers: {} })).toThrow('response 400 set no session cookie');
    expect(() => sessionCookieOf(new Response(null, { status: 401 }))).toThrow('response 401 set no session cookie');
  });
});

describe('building session cookies', () => {
  it('cookieWithJwt carries the JWT that jwtFromCookie reads back, as cookie-session writes it', () => {
    expect(cookieWithJwt('a.b.c')).toBe('session=eyJqd3QiOiJhLmIuYyJ9');
    expect(jwtFromCookie(cookieWithJwt('a.b.c'))).toBe('a.b.c');
  });

  it('cookieWithSession carries any session, such as a jwt that is not a string', () => {
    const cookie = cookieWithSession({ jwt: { id: 'u1' } });
    expect(JSON.parse(Buffer.from(cookie.slice('session='.length), 'base64').toString())).toEqual({ jwt: { id: 'u1' } });
  });
});
