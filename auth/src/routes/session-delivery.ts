import type { Request, Response } from 'express';
import { HttpError, noteSignedInUser } from '@ticketing/common/http';
import type { Queryable } from '@ticketing/common/runtime';
import type { TokenSigner } from '@ticketing/common/tokens';
import type { IssuedRefreshToken } from '../sessions.js';
import { databaseNow, toPublicUser, type UserRecord } from '../users.js';

/**
 * The cookie that carries the refresh token: `refresh`, or in production `__Host-refresh`, a name
 * browsers accept only from this host, Secure, on the path `/`, so that no sibling subdomain can
 * plant one.
 */
export const refreshCookieName = (production: boolean): string => (production ? '__Host-refresh' : 'refresh');

/**
 * The request header with which a client that is not a browser asks for its tokens in the response
 * body (and sends its refresh token in the request body) instead of cookies.
 */
export const TOKEN_DELIVERY_HEADER = 'x-token-delivery';

/** True when the client asked for its tokens in the body (`X-Token-Delivery: body`). */
export function wantsTokensInBody(req: Request): boolean {
  return req.get(TOKEN_DELIVERY_HEADER)?.trim().toLowerCase() === 'body';
}

/** The values of the cookies named `name` in the request, in order; one that cannot be decoded is `null`. */
function cookieValues(req: Request, name: string): (string | null)[] {
  const values: (string | null)[] = [];
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at === -1 || part.slice(0, at).trim() !== name) continue;
    try {
      values.push(decodeURIComponent(part.slice(at + 1).trim()));
    } catch {
      values.push(null);
    }
  }
  return values;
}

/** The refresh cookie's value: the first that can be decoded, or undefined. */
export function refreshCookieOf(req: Request, options: Delivery): string | undefined {
  return cookieValues(req, refreshCookieName(options.production)).find((value) => value !== null) ?? undefined;
}

/**
 * The most a signing waits for the database's clock to pass a revocation's second, in ms. Under a
 * second is all a sound clock needs; more means the revocation is dated ahead of the clock (a
 * database clock stepped back), and the request is answered 503 rather than hold the user's row.
 */
const MAX_SIGNING_WAIT_MS = 1_500;

/**
 * An access token for `user`, whose row the caller has locked, dated by the database's clock (the
 * clock that dates bans and revocations). A token's `iat` has whole seconds, and one issued in the
 * second of the user's last revocation or last ban counts as issued before it and would be
 * refused (every service keeps a ban's entry after an unban); so when the clock is still in that
 * second, this waits (under a second) until it has passed.
 */
export async function signAccessToken(tx: Queryable, signer: TokenSigner, user: UserRecord): Promise<string> {
  const times = [user.sessionsRevokedAt, user.lastBannedAt].filter((at): at is Date => at !== null).map((at) => at.getTime());
  const revokedMs = times.length === 0 ? undefined : Math.max(...times);
  const deadline = Date.now() + MAX_SIGNING_WAIT_MS;
  for (;;) {
    const issuedAtMs = (await databaseNow(tx)).getTime();
    const tooEarly = revokedMs !== undefined && Math.floor(issuedAtMs / 1000) * 1000 <= revokedMs;
    if (!tooEarly) return signer.sign(user, { issuedAtMs });
    const waitMs = Math.floor(revokedMs / 1000) * 1000 + 1_000 - issuedAtMs;
    if (Date.now() + waitMs > deadline) {
      throw new HttpError('SERVICE_UNAVAILABLE', { message: 'Try again in a moment', cause: new Error('the user\'s last revocation or ban is dated ahead of the database clock') });
    }
    await new Promise((resolve) => { setTimeout(resolve, Math.max(waitMs, 1)); });
  }
}

export interface Delivery {
  production: boolean;
}

/** The `iat` and `exp` of a compact JWT this service signed, in seconds. */
export function timesOf(jwt: string): { iat: number; exp: number } {
  const { iat, exp } = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
  return { iat, exp };
}

/** Sets the `session` cookie (`{ jwt }`) and, when there is one, the httpOnly `refresh` cookie until the refresh token expires. */
export function setSessionCookies(req: Request, res: Response, options: Delivery & { jwt: string; refresh?: IssuedRefreshToken }): void {
  req.session = { jwt: options.jwt };
  if (options.refresh !== undefined) {
    res.cookie(refreshCookieName(options.production), options.refresh.refreshToken, { ...refreshCookieFlags(options), expires: options.refresh.expiresAt });
  }
}

/**
 * Answers with the user, and hands over the access token and, when there is one, the refresh
 * token: as cookies for a browser, or in the body for a client that asked (`X-Token-Delivery: body`).
 */
export function deliverTokens(
  req: Request,
  res: Response,
  options: Delivery & { user: UserRecord; jwt: string; refresh?: IssuedRefreshToken; status?: number },
): void {
  const { user, jwt, refresh } = options;
  noteSignedInUser(res, user.id);
  res.status(options.status ?? 200);
  if (!wantsTokensInBody(req)) {
    setSessionCookies(req, res, options);
    res.json(toPublicUser(user));
    return;
  }
  res.json({
    ...toPublicUser(user),
    tokens: {
      accessToken: jwt,
      accessTokenExpiresAt: new Date(timesOf(jwt).exp * 1000).toISOString(),
      ...(refresh === undefined ? {} : { refreshToken: refresh.refreshToken, refreshTokenExpiresAt: refresh.expiresAt.toISOString() }),
    },
  });
}

/** Removes both cookies (signed out, banned, or a refresh token that no longer works), a refresh cookie that cannot be read too. */
export function clearSessionCookies(req: Request, res: Response, options: Delivery): void {
  req.session = null;
  if (cookieValues(req, refreshCookieName(options.production)).length > 0) res.clearCookie(refreshCookieName(options.production), refreshCookieFlags(options));
}

/**
 * The refresh cookie: httpOnly, SameSite=Lax and, in production, Secure. Its path is `/`: a
 * server-rendered page's first request goes to the web client, not to auth, and must carry it for
 * the client to refresh a session whose access token has expired.
 */
function refreshCookieFlags(options: Delivery) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: options.production, path: '/' };
}
