import type { Request } from 'express';

/** On the requests of a `createServiceApp` app: reads the session cookie's `jwt` without setting cookie-session up. */
export const READ_SESSION_JWT = Symbol('ticketing.readSessionJwt');

const patterns = new Map<string, RegExp>();

/**
 * The `jwt` of the session cookie `name` in a Cookie header, read exactly as cookie-session reads
 * it (the `cookies` module's first `name=` match, one pair of quotes taken off, base64 JSON whose
 * own `jwt` is taken; anything that does not decode is no session), so that a request does not
 * have to set cookie-session up to be authenticated. `undefined` when there is none.
 */
export function sessionJwtOf(cookieHeader: string | undefined, name: string): unknown {
  if (!cookieHeader) return undefined;
  let pattern = patterns.get(name);
  if (pattern === undefined) {
    pattern = new RegExp(`(?:^|;) *${name.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, '\\$&')}=([^;]*)`);
    patterns.set(name, pattern);
  }
  const match = pattern.exec(cookieHeader);
  if (match === null) return undefined;
  let value = match[1]!;
  if (value[0] === '"') value = value.slice(1, -1);
  if (value === '') return undefined;
  let session: unknown;
  try {
    session = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof session !== 'object' || session === null || !Object.hasOwn(session, 'jwt')) return undefined;
  return (session as { jwt: unknown }).jwt;
}

/** The session's `jwt`: read from the header where `createServiceApp` allows it, else from `req.session`. */
export function sessionJwt(req: Request): unknown {
  const withReader = req as Request & { [READ_SESSION_JWT]?: () => unknown };
  return withReader[READ_SESSION_JWT] === undefined ? req.session?.jwt : withReader[READ_SESSION_JWT]();
}
