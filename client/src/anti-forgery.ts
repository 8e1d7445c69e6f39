import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { isSameOriginRequest } from '@ticketing/common/http';

/** The form field that carries the anti-forgery token. */
export const ANTI_FORGERY_FIELD = '_csrf';

/** A nonce as the cookie holds it: 32 random bytes, base64url. */
const NONCE = /^[A-Za-z0-9_-]{43}$/;
/** A token as a form carries it: an HMAC-SHA256, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Why a state-changing request was refused, for the log. */
export type ForgeryVerdict = 'ok' | 'cross-site' | 'no cookie' | 'no token' | 'wrong token';

/**
 * Anti-forgery tokens for the client's forms, as a signed double submit: the browser holds a
 * random nonce in an HttpOnly cookie, and each form carries the HMAC of that nonce under a key
 * only the client has. Another site can make the browser send the cookie, but cannot read it nor
 * compute the token; nor can it plant a cookie of its own, because in production the cookie is
 * `__Host-` (secure, this host only, path `/`). The services' own cross-site checks still apply
 * behind it, as the client passes on the browser's `Origin` and `Sec-Fetch-Site`.
 */
export class AntiForgery {
  readonly #key: Buffer;
  readonly #cookieName: string;
  readonly #secure: boolean;

  constructor(options: { key: string; production: boolean }) {
    this.#key = Buffer.from(options.key, 'utf8');
    this.#cookieName = options.production ? '__Host-csrf' : 'csrf';
    this.#secure = options.production;
  }

  get cookieName(): string {
    return this.#cookieName;
  }

  /** The token for this request's forms; sets a nonce cookie first when the browser has none. */
  tokenFor(req: Request, res: Response): string {
    const locals = res.locals as { antiForgeryNonce?: string };
    let nonce = locals.antiForgeryNonce ?? this.#nonceOf(req);
    if (nonce === undefined) nonce = this.renew(res);
    locals.antiForgeryNonce = nonce;
    return this.#sign(nonce);
  }

  /**
   * A new nonce, for when who is signed in changes (sign in, sign up, sign out): a token that
   * leaked before then is worth nothing after.
   */
  renew(res: Response): string {
    const nonce = randomBytes(32).toString('base64url');
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', ...(this.#secure ? ['Secure'] : [])];
    res.append('Set-Cookie', `${this.#cookieName}=${nonce}; ${attributes.join('; ')}`);
    (res.locals as { antiForgeryNonce?: string }).antiForgeryNonce = nonce;
    return nonce;
  }

  /** Whether a state-changing request came from this site's own form: same origin, and the right token. */
  verify(req: Request): ForgeryVerdict {
    if (!isSameOriginRequest(req)) return 'cross-site';
    const nonce = this.#nonceOf(req);
    if (nonce === undefined) return 'no cookie';
    const token = (req.body as Record<string, unknown> | undefined)?.[ANTI_FORGERY_FIELD];
    if (typeof token !== 'string' || !TOKEN.test(token)) return 'no token';
    const expected = Buffer.from(this.#sign(nonce), 'ascii');
    return timingSafeEqual(Buffer.from(token, 'ascii'), expected) ? 'ok' : 'wrong token';
  }

  #sign(nonce: string): string {
    return createHmac('sha256', this.#key).update(`anti-forgery:${nonce}`).digest('base64url');
  }

  /** The first well-formed nonce cookie of the request. */
  #nonceOf(req: Request): string | undefined {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const at = part.indexOf('=');
      if (at === -1 || part.slice(0, at).trim() !== this.#cookieName) continue;
      const value = part.slice(at + 1).trim();
      if (NONCE.test(value)) return value;
    }
    return undefined;
  }
}

