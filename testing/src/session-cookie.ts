/** A response from `fetch` or from supertest. */
type ResponseWithCookies = { status: number; headers: Headers | Record<string, unknown> };

/**
 * Reads the `session` cookie (`session=value`) a response set, to send with the next request; a
 * response that set none is an error. Takes a `fetch` Response or a supertest one.
 *
 * @example
 * const res = await request(auth.app).post('/api/users/signup').send({ email, password }).expect(201);
 * await request(auth.app).get('/api/users/currentuser').set('Cookie', sessionCookieOf(res));
 */
export function sessionCookieOf(res: ResponseWithCookies): string {
  const cookies = res.headers instanceof Headers ? res.headers.getSetCookie() : ((res.headers['set-cookie'] ?? []) as string[]);
  const session = cookies.find((cookie) => cookie.startsWith('session='));
  if (!session) throw new Error(`response ${res.status} set no session cookie`);
  return session.split(';')[0]!;
}

/** The JWT inside a `session=` cookie. */
export function jwtFromCookie(cookie: string): string {
  const value = cookie.slice('session='.length);
  return (JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as { jwt: string }).jwt;
}

/**
 * Builds a `session=` cookie that carries `session`, as cookie-session writes it (base64 JSON); for
 * sessions a real one would not hold, such as a `jwt` that is not a string.
 *
 * @example
 * request(app).get('/me').set('Cookie', cookieWithSession({ jwt: { id, role: 'admin' } }));
 */
export function cookieWithSession(session: Record<string, unknown>): string {
  return `session=${Buffer.from(JSON.stringify(session)).toString('base64')}`;
}

/** Builds a `session=` cookie carrying this JWT, as auth sets it: `cookieWithSession({ jwt })`. */
export function cookieWithJwt(jwt: string): string {
  return cookieWithSession({ jwt });
}
