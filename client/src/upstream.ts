import type { Request, Response } from 'express';
import { requestIdOf, REQUEST_ID_HEADER } from '@ticketing/common/http';
import type { Logger } from '@ticketing/common/runtime';
import type { ClientConfig } from './config.js';

/** The services the client calls on a visitor's behalf. */
export type ServiceName = 'auth' | 'orders';

/**
 * The browser's cookies the services read: the session (`{ jwt }`) and the refresh token. No other
 * cookie is passed on, the client's own anti-forgery cookie least of all.
 */
const FORWARDED_COOKIES: ReadonlySet<string> = new Set(['session', 'refresh', '__Host-refresh']);
const REFRESH_COOKIES = ['refresh', '__Host-refresh'];

/** An item of a service's documented error body. */
export interface ErrorItem {
  message: string;
  field?: string;
}

/** What a service answered. */
export interface Answer {
  service: ServiceName;
  status: number;
  body: unknown;
  /** The items of `{ errors }` when the answer is an error (4xx), else empty. */
  errors: ErrorItem[];
  /** The `Set-Cookie` headers the answer carried of the cookies the services read, by cookie name. */
  cookies: ReadonlyMap<string, SetCookie>;
}

/** A service did not answer, timed out, or answered with a 5xx or something that is not its JSON. */
export class ServiceUnavailableError extends Error {
  override readonly name = 'ServiceUnavailableError';
  constructor(readonly service: ServiceName, options: { cause?: unknown; status?: number } = {}) {
    super(`${service} is unavailable${options.status === undefined ? '' : ` (status ${options.status})`}`, { cause: options.cause });
  }
}

/** The signed-in user, as auth's `currentuser` has them. */
export interface CurrentUser {
  id: string;
  email: string;
  role: 'user' | 'admin';
}

/** Who is behind a page request: a user, nobody, or a banned user (whose session auth just ended). */
export type Visitor = { kind: 'user'; user: CurrentUser } | { kind: 'anonymous' } | { kind: 'banned' };

/** The longest cookie value passed on: a session and a refresh token are far shorter. */
const MAX_COOKIE_VALUE_LENGTH = 4096;

/**
 * The cookies of a `Cookie` header the services read. A name sent twice is passed on not at all:
 * the browser holds a second cookie of that name only when another site or a sibling host planted
 * one (with a narrower path, it would come first), and whose session it is cannot be told. A
 * value too long to be one of ours is dropped too, rather than have the service refuse the header.
 */
function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  const twice = new Set<string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at === -1) continue;
    const name = part.slice(0, at).trim();
    if (!FORWARDED_COOKIES.has(name)) continue;
    if (cookies.has(name)) twice.add(name);
    cookies.set(name, part.slice(at + 1).trim());
  }
  for (const [name, value] of cookies) {
    if (twice.has(name) || value.length > MAX_COOKIE_VALUE_LENGTH) cookies.delete(name);
  }
  return cookies;
}

/** A `Set-Cookie` header, with its cookie's name, value, and whether it removes the cookie. */
export interface SetCookie {
  header: string;
  name: string;
  value: string;
  removes: boolean;
}

/** A `Set-Cookie` header read: removing is expired, or `Max-Age` of 0 or less. */
function parseSetCookie(header: string): SetCookie | undefined {
  const [pair = '', ...attributes] = header.split(';');
  const at = pair.indexOf('=');
  if (at <= 0) return undefined;
  const removes = attributes.some((attribute) => {
    const [key = '', value = ''] = attribute.split('=').map((part) => part.trim());
    if (key.toLowerCase() === 'max-age') return Number(value) <= 0;
    if (key.toLowerCase() === 'expires') return Date.parse(value) <= Date.now();
    return false;
  });
  return { header, name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim(), removes };
}

function errorItems(body: unknown): ErrorItem[] {
  const errors = (body as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((item: unknown) => {
    const { message, field } = (item ?? {}) as { message?: unknown; field?: unknown };
    if (typeof message !== 'string') return [];
    return [typeof field === 'string' ? { message, field } : { message }];
  });
}

function isCurrentUser(value: unknown): value is CurrentUser {
  const user = value as Partial<CurrentUser> | null;
  return typeof user?.id === 'string' && typeof user.email === 'string' && (user.role === 'user' || user.role === 'admin');
}

export interface UpstreamDeps {
  config: Pick<ClientConfig, 'authUrl' | 'ordersUrl' | 'upstreamTimeoutMs'>;
  logger: Logger;
}

/**
 * The services as one page request sees them: each call carries the browser's session cookies
 * (as the services last set them during this request), the request's id, and what the services
 * need to judge the request as if the browser had sent it: its address and scheme (the client is a
 * proxy hop they trust) and its `Origin` and `Sec-Fetch-Site`, so that their own cross-site checks
 * still apply. The cookies the services set are passed on to the browser by {@link Upstream.passOn}.
 */
export class Upstream {
  readonly #deps: UpstreamDeps;
  readonly #req: Request;
  readonly #requestId: string | undefined;
  readonly #jar: Map<string, string>;
  /** The last `Set-Cookie` of each name, in the order the answers were kept. */
  readonly #setCookies = new Map<string, string>();

  constructor(deps: UpstreamDeps, req: Request, res: Response) {
    this.#deps = deps;
    this.#req = req;
    this.#requestId = requestIdOf(res);
    this.#jar = parseCookieHeader(req.headers.cookie);
  }

  /** The session cookie as this request now holds it: a changed value means auth refreshed it. */
  get sessionCookie(): string | undefined {
    return this.#jar.get('session');
  }

  get hasRefreshCookie(): boolean {
    return REFRESH_COOKIES.some((name) => this.#jar.has(name));
  }

  /** Calls a service without keeping its cookies: {@link keep} them, in the order the calls should count. */
  async send(service: ServiceName, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const { config, logger } = this.#deps;
    const base = service === 'auth' ? config.authUrl : config.ordersUrl;
    const req = this.#req;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-forwarded-for': req.ip ?? req.socket.remoteAddress ?? '',
      'x-forwarded-proto': req.protocol,
      'x-forwarded-host': req.host,
    };
    // The refresh token is auth's alone; orders reads the session.
    const sent = [...this.#jar].filter(([name]) => service === 'auth' || !REFRESH_COOKIES.includes(name));
    if (sent.length > 0) headers.cookie = sent.map(([name, value]) => `${name}=${value}`).join('; ');
    if (this.#requestId !== undefined) headers[REQUEST_ID_HEADER.toLowerCase()] = this.#requestId;
    for (const name of ['origin', 'sec-fetch-site']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: globalThis.Response;
    let parsed: unknown;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(config.upstreamTimeoutMs),
      });
      parsed = await response.json();
    } catch (err) {
      logger.warn({ service, method, path, err }, 'a service did not answer');
      throw new ServiceUnavailableError(service, { cause: err });
    }
    if (response.status >= 500) {
      logger.warn({ service, method, path, status: response.status }, 'a service answered with an error');
      throw new ServiceUnavailableError(service, { status: response.status });
    }
    const cookies = new Map<string, SetCookie>();
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header);
      if (cookie !== undefined && FORWARDED_COOKIES.has(cookie.name)) cookies.set(cookie.name, cookie);
    }
    return { service, status: response.status, body: parsed, errors: response.status >= 400 ? errorItems(parsed) : [], cookies };
  }

  /** Takes the cookies an answer set: for the calls that follow, and for the browser. */
  keep(answer: Answer): Answer {
    for (const [name, cookie] of answer.cookies) {
      if (cookie.removes) this.#jar.delete(name);
      else this.#jar.set(name, cookie.value);
      this.#setCookies.delete(name);
      this.#setCookies.set(name, cookie.header);
    }
    return answer;
  }

  /** {@link send}, then {@link keep}. */
  async call(service: ServiceName, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    return this.keep(await this.send(service, method, path, body));
  }

  /** Who the visitor is, from auth's `currentuser`, which refreshes an expired session on the spot. */
  async visitor(): Promise<Visitor> {
    return visitorOf(await this.call('auth', 'GET', '/api/users/currentuser'));
  }

  /**
   * A call as the signed-in user: when the service answers 401 and the browser holds a refresh
   * token, auth's `currentuser` refreshes the session and the call is made once more with it. A
   * refused call changed nothing, so making it again is safe.
   */
  async asUser(service: ServiceName, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const first = await this.send(service, method, path, body);
    if (first.status !== 401 || !this.hasRefreshCookie) return this.keep(first);
    const before = this.sessionCookie;
    await this.visitor();
    return this.sessionCookie !== undefined && this.sessionCookie !== before ? this.call(service, method, path, body) : this.keep(first);
  }

  /** Hands the browser the cookies the services set during this request, the last of each name; once. */
  passOn(res: Response): void {
    for (const header of this.#setCookies.values()) res.append('Set-Cookie', header);
    this.#setCookies.clear();
  }
}

/** The visitor an answer of `currentuser` names. */
export function visitorOf(answer: Answer): Visitor {
  const body = answer.body as { currentUser?: unknown; banned?: unknown } | null;
  if (answer.status === 200 && isCurrentUser(body?.currentUser)) {
    const { id, email, role } = body.currentUser;
    return { kind: 'user', user: { id, email, role } };
  }
  return body?.banned === true ? { kind: 'banned' } : { kind: 'anonymous' };
}
