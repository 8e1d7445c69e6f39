/** The `session` cookie (`session=value`) a response set, to send with the next request. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const cookies = (res.headers['set-cookie'] ?? []) as string[];
  const session = cookies.find((cookie) => cookie.startsWith('session='));
  if (!session) throw new Error('response set no session cookie');
  return session.split(';')[0]!;
}

/** The JWT inside a `session=` cookie. */
export function jwtFromCookie(cookie: string): string {
  const value = cookie.slice('session='.length);
  return (JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as { jwt: string }).jwt;
}

/** A `session=` cookie carrying this JWT, as cookie-session writes it. */
export function cookieWithJwt(jwt: string): string {
  return `session=${Buffer.from(JSON.stringify({ jwt })).toString('base64')}`;
}
