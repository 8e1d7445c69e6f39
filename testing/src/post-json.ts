/**
 * POSTs `body` as JSON to `url` with `fetch`, sending `cookie` (a `session=...` pair) when given: a
 * request to a service running as a process.
 *
 * @example
 * const signup = await postJson(`${auth.url}/api/users/signup`, { email, password });
 * const ban = await postJson(`${auth.url}/api/admin/users/${id}/ban`, { reason: 'spam' }, sessionCookieOf(adminSignup));
 */
export function postJson(url: string, body: unknown, cookie?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
}
