import type { Request, Response } from 'express';
import type { Queryable } from '@ticketing/common/runtime';
import type { TokenSigner } from '@ticketing/common/tokens';
import type { IssuedRefreshToken } from '../sessions.js';
import { databaseNow, toPublicUser, type UserRecord } from '../users.js';

/** The cookie that carries the refresh token. */
export const REFRESH_COOKIE = 'refresh';

/**
 * The request header with which a client that is not a browser asks for its tokens in the response
 * body (and sends its refresh token in the request body) instead of cookies.
 */
export const TOKEN_DELIVERY_HEADER = 'x-token-delivery';

/** True when the client asked for its tokens in the body (`X-Token-Delivery: body`). */
export function wantsTokensInBody(req: Request): boolean {
  return req.get(TOKEN_DELIVERY_HEADER)?.trim().toLowerCase() === 'body';
}

/** The value of the `refresh` cookie, or undefined (also when the header is malformed). */
export function refreshCookieOf(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.split('=');
    if (name?.trim() !== REFRESH_COOKIE) continue;
    try {
      return decodeURIComponent(value.join('=').trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The most a signing waits for the database's clock to pass a revocation's second, in ms. */
const MAX_SIGNING_WAIT_MS = 2_500;

/**
 * An access token for `user`, whose row the caller has locked, dated by the database's clock (the
 * clock that dates bans and revocations). A token's `iat` has whole seconds, and one issued in the
 * second of the user's last revocation counts as issued before it and would be refused; so when
 * the clock is still in that second, this waits (under a second) until it has passed.
 */
export async function signAccessToken(tx: Queryable, signer: TokenSigner, user: UserRecord): Promise<string> {
  const revokedMs = user.sessionsRevokedAt?.getTime();
  const deadline = Date.now() + MAX_SIGNING_WAIT_MS;
  for (;;) {
    const issuedAtMs = (await databaseNow(tx)).getTime();
    const tooEarly = revokedMs !== undefined && Math.floor(issuedAtMs / 1000) * 1000 <= revokedMs;
    if (!tooEarly) return signer.sign(user, { issuedAtMs });
    if (Date.now() > deadline) throw new Error('the database clock did not pass the last revocation of the user\'s sessions');
    const waitMs = Math.floor(revokedMs / 1000) * 1000 + 1_000 - issuedAtMs;
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
    res.cookie(REFRESH_COOKIE, options.refresh.refreshToken, { ...refreshCookieFlags(options), expires: options.refresh.expiresAt });
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

/** Removes both cookies (signed out, banned, or a refresh token that no longer works). */
export function clearSessionCookies(req: Request, res: Response, options: Delivery): void {
  req.session = null;
  if (refreshCookieOf(req) !== undefined) res.clearCookie(REFRESH_COOKIE, refreshCookieFlags(options));
}

/**
 * The refresh cookie: httpOnly, SameSite=Lax and, in production, Secure. Its path is `/`: a
 * server-rendered page's first request goes to the web client, not to auth, and must carry it for
 * the client to refresh a session whose access token has expired.
 */
function refreshCookieFlags(options: Delivery) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: options.production, path: '/' };
}
