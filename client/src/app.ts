import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { healthRoutes, logRequests, requestLogger, type Metrics } from '@ticketing/common/http';
import type { Logger } from '@ticketing/common/runtime';
import { AntiForgery } from './anti-forgery.js';
import type { ClientConfig } from './config.js';
import { html, type SafeHtml } from './html.js';
import {
  adminPage, bannedPage, credentialsPage, homePage, messagePage, ordersPage,
  type AdminUserView, type OrderView, type PageContext, type UserStateFilter,
} from './pages.js';
import { readPropagation } from './propagation.js';
import { STYLES, STYLES_ETAG } from './styles.js';
import { ServiceUnavailableError, Upstream, visitorOf, type Answer, type ErrorItem, type Visitor } from './upstream.js';

/** The largest form accepted; larger ones get 413. */
export const FORM_BODY_LIMIT = '16kb';
/** The most users the admin console lists at once. */
const ADMIN_PAGE_SIZE = 100;
const STATE_FILTERS: readonly UserStateFilter[] = ['all', 'banned', 'active'];
/** The longest the admin console waits for a service's metrics: the page, and the cookies it carries, wait for them. */
const PROPAGATION_TIMEOUT_MS = 1_000;

/**
 * The headers of every page: a Content Security Policy that allows nothing but this origin's
 * stylesheet and forms that post back here (no script at all, inline or not), no framing, no
 * caching of pages that hold a user's data, and no referrer to other sites.
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
});

export interface ClientAppDeps {
  config: ClientConfig;
  logger: Logger;
  metrics: Metrics;
}

/**
 * An id from the page's URL as one path segment of a service's route, or `undefined` for `.` and
 * `..`, which no encoding keeps from climbing to another route of the service.
 */
function pathSegment(id: string): string | undefined {
  return /^\.{1,2}$/.test(id) ? undefined : encodeURIComponent(id);
}

/** One form field as text: a missing field, or one sent twice, is `undefined`. */
function field(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** One query parameter as text: `undefined` when it is absent, `null` when it is not one text value (`?q=a&q=b`). */
function queryText(req: Request, name: string): string | undefined | null {
  const value = req.query[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}

/** An item in a service's list, checked for the fields a page shows: a service that answers otherwise is treated as unavailable. */
function listOf<T>(answer: Answer, isItem: (item: unknown) => item is T): T[] {
  if (Array.isArray(answer.body) && answer.body.every(isItem)) return answer.body;
  throw new ServiceUnavailableError(answer.service, { status: answer.status });
}

const isOrder = (item: unknown): item is OrderView => {
  const order = item as Partial<OrderView> | null;
  return typeof order?.id === 'string' && typeof order.ticketId === 'string' && typeof order.status === 'string' && typeof order.createdAt === 'string';
};

const isAdminUser = (item: unknown): item is AdminUserView => {
  const user = item as Partial<AdminUserView> | null;
  return typeof user?.id === 'string' && typeof user.email === 'string' && typeof user.role === 'string' && typeof user.banned === 'boolean'
    && (user.bannedAt === null || typeof user.bannedAt === 'string') && (user.banReason === null || typeof user.banReason === 'string');
};

/** Whether a service refused the request because the user is banned. */
const saysBanned = (answer: Answer): boolean => answer.status === 403 && answer.errors.some((error) => error.message === 'User is banned');

/** What a service's answer means for a form: its errors, or one generic line when it gave none. */
const errorsOf = (answer: Answer): ErrorItem[] => (answer.errors.length > 0 ? answer.errors : [{ message: 'The request was refused' }]);

/** The admin console's filters, from a query or from a form's hidden fields; `undefined` when malformed. */
function adminFilters(q: string | undefined | null, state: string | undefined | null): { q: string; state: UserStateFilter } | undefined {
  if (q === null || state === null) return undefined;
  const text = (q ?? '').trim();
  if (text.length > 254 || /\p{Cc}/u.test(text)) return undefined;
  const filter = (state ?? 'all') as UserStateFilter;
  if (!STATE_FILTERS.includes(filter)) return undefined;
  return { q: text, state: filter };
}

function adminLocation(filters: { q: string; state: UserStateFilter } | undefined): string {
  if (filters === undefined) return '/admin';
  const query = new URLSearchParams();
  if (filters.q !== '') query.set('q', filters.q);
  if (filters.state !== 'all') query.set('state', filters.state);
  const text = query.toString();
  return text === '' ? '/admin' : `/admin?${text}`;
}

/**
 * The web client: server-rendered pages over auth and orders. Every page request forwards the
 * browser's session cookies to the services (auth's `currentuser` first, which refreshes an
 * expired session on the spot) and hands back the cookies they set, so the first page a browser
 * loads already knows who is signed in. No page carries script; every form works without it and
 * posts back here with an anti-forgery token, and the answer to a form is a redirect (303) or the
 * form again with each service error next to the field it names.
 */
export function createClientApp(deps: ClientAppDeps): Express {
  const { config, logger, metrics } = deps;
  const antiForgery = new AntiForgery({ key: config.antiForgeryKey, production: config.production });
  const app = express();
  app.set('trust proxy', config.trustProxy === 0 ? false : config.trustProxy);
  app.set('etag', false);
  app.disable('x-powered-by');
  // Query strings are read as flat text: `?q[a]=1` is no object.
  app.set('query parser', 'simple');

  // The request's calls to the services, kept where every answer, an error page's too, hands the
  // browser the cookies they set: a refresh token rotated during the request and then lost would
  // look like a stolen one the next time.
  const upstream = (req: Request, res: Response) => {
    const up = new Upstream({ config, logger: requestLogger(res) ?? logger }, req, res);
    (res.locals as Locals).upstream = up;
    return up;
  };
  const context = (req: Request, res: Response, visitor: Visitor | undefined): PageContext => ({ visitor, antiForgeryToken: antiForgery.tokenFor(req, res) });

  app.use(logRequests({ logger, metrics }));
  const pageHeaders = Object.entries({
    ...PAGE_SECURITY_HEADERS,
    ...(config.production ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  });
  app.use(function pageSecurityHeaders(_req, res, next) {
    for (const [name, value] of pageHeaders) res.setHeader(name, value);
    next();
  });
  // Ready as soon as it listens: it keeps no state, and a page whose service is down says so.
  app.use(healthRoutes({}, { logger }));

  app.get('/styles.css', (req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('ETag', STYLES_ETAG);
    if (req.headers['if-none-match'] === STYLES_ETAG) return void res.status(304).end();
    res.type('css').send(STYLES);
  });

  // Browsers ask for it on every site; there is none, and saying so once a day is enough.
  app.get('/favicon.ico', (_req, res) => {
    res.setHeader('Cache-Control', 'max-age=86400');
    res.status(204).end();
  });

  app.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: 32 }));
  // Every state-changing request is one of this site's forms, or is refused before it reaches a service.
  app.use(function refuseForgedForms(req, res, next) {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const verdict = antiForgery.verify(req);
    if (verdict === 'ok') return next();
    (requestLogger(res) ?? logger).info({ audit: 'anti_forgery.refused', why: verdict, path: req.path, origin: req.headers.origin, site: req.headers['sec-fetch-site'] }, 'a form without a valid anti-forgery token was refused');
    send(res, 403, messagePage(context(req, res, undefined), 'Form expired', 'This form has expired or came from another site. Go back, reload the page and try again.'));
  });

  app.get('/', async (req, res) => {
    const up = upstream(req, res);
    const visitor = await up.visitor();
    send(res, 200, homePage(context(req, res, visitor)));
  });

  for (const kind of ['signup', 'signin'] as const) {
    app.get(`/${kind}`, async (req, res) => {
      const up = upstream(req, res);
      const visitor = await up.visitor();
      if (visitor.kind === 'user') return redirect(res, '/');
      send(res, 200, credentialsPage(context(req, res, visitor), { kind, email: '', errors: [] }));
    });
    app.post(`/${kind}`, async (req, res) => {
      const up = upstream(req, res);
      const email = field(req, 'email');
      const answer = await up.call('auth', 'POST', `/api/users/${kind}`, { email, password: field(req, 'password') });
      if (answer.status === 200 || answer.status === 201) {
        antiForgery.renew(res);
        return redirect(res, '/');
      }
      // A banned user is told so once, above the form.
      const banned = saysBanned(answer);
      send(res, answer.status, credentialsPage(context(req, res, { kind: banned ? 'banned' : 'anonymous' }), { kind, email: email ?? '', errors: banned ? [] : errorsOf(answer) }));
    });
  }

  app.post('/signout', async (req, res) => {
    const up = upstream(req, res);
    await up.call('auth', 'POST', '/api/users/signout');
    antiForgery.renew(res);
    redirect(res, '/');
  });

  app.post('/signout-all', async (req, res) => {
    const up = upstream(req, res);
    const answer = await up.asUser('auth', 'POST', '/api/users/signout-all');
    if (answer.status === 200 || answer.status === 401) {
      antiForgery.renew(res);
      return redirect(res, answer.status === 200 ? '/' : '/signin');
    }
    send(res, answer.status, messagePage(context(req, res, visitorOf(answer)), 'Not signed out', errorsOf(answer)[0]!.message));
  });

  /**
   * The orders page. Orders answers it from the token alone, so the page works while auth is
   * down; auth's `currentuser` is asked at the same time for who is signed in, and refreshes an
   * expired session, after which orders is asked once more. A ban refuses the page whichever of
   * the two says so first.
   */
  async function renderOrders(req: Request, res: Response, up: Upstream, form: { status: number; ticketId: string; errors: readonly ErrorItem[] }) {
    const before = up.sessionCookie;
    const [listed, asked] = await Promise.allSettled([up.send('orders', 'GET', '/api/orders'), up.send('auth', 'GET', '/api/users/currentuser')]);
    // Auth's cookies are kept even when orders failed: a refresh token it rotated must reach the browser.
    if (listed.status === 'fulfilled') up.keep(listed.value);
    if (asked.status === 'fulfilled') up.keep(asked.value);
    if (listed.status === 'rejected') throw listed.reason;
    if (asked.status === 'rejected' && !(asked.reason instanceof ServiceUnavailableError)) throw asked.reason;
    const first = listed.value;
    const visitor = asked.status === 'fulfilled' ? visitorOf(asked.value) : undefined;
    const orders = first.status === 401 && up.sessionCookie !== undefined && up.sessionCookie !== before ? await up.call('orders', 'GET', '/api/orders') : first;
    if (saysBanned(orders) || visitor?.kind === 'banned') return send(res, 403, bannedPage(context(req, res, { kind: 'banned' })));
    if (orders.status === 401) return redirect(res, '/signin');
    if (orders.status !== 200) return send(res, orders.status, messagePage(context(req, res, visitor), 'Orders', errorsOf(orders)[0]!.message));
    send(res, form.status, ordersPage(context(req, res, visitor), { orders: listOf(orders, isOrder), ticketId: form.ticketId, errors: form.errors }));
  }

  app.get('/orders', async (req, res) => {
    await renderOrders(req, res, upstream(req, res), { status: 200, ticketId: '', errors: [] });
  });

  /** After a change to an order: back to the list, or the list with the service's errors. */
  async function afterOrderChange(req: Request, res: Response, up: Upstream, answer: Answer, ticketId: string) {
    if (answer.status === 200 || answer.status === 201) return redirect(res, '/orders');
    if (saysBanned(answer)) return send(res, 403, bannedPage(context(req, res, { kind: 'banned' })));
    if (answer.status === 401) return redirect(res, '/signin');
    await renderOrders(req, res, up, { status: answer.status, ticketId, errors: errorsOf(answer) });
  }

  app.post('/orders', async (req, res) => {
    const up = upstream(req, res);
    const ticketId = field(req, 'ticketId');
    const answer = await up.asUser('orders', 'POST', '/api/orders', { ticketId });
    await afterOrderChange(req, res, up, answer, ticketId ?? '');
  });

  app.post('/orders/:id/cancel', async (req, res) => {
    const id = pathSegment(req.params.id);
    if (id === undefined) return send(res, 404, messagePage(context(req, res, undefined), 'Not found', 'There is no such order.'));
    const up = upstream(req, res);
    const answer = await up.asUser('orders', 'POST', `/api/orders/${id}/cancel`);
    await afterOrderChange(req, res, up, answer, '');
  });

  /** The admin console, for a signed-in admin only; anyone else is sent to sign in, or refused. */
  async function renderAdmin(req: Request, res: Response, up: Upstream, view: { status: number; filters: { q: string; state: UserStateFilter }; rowErrors?: { userId: string; errors: readonly ErrorItem[] } }) {
    const visitor = await up.visitor();
    if (visitor.kind === 'banned') return send(res, 403, bannedPage(context(req, res, visitor)));
    if (visitor.kind === 'anonymous') return redirect(res, '/signin');
    if (visitor.user.role !== 'admin') return send(res, 403, messagePage(context(req, res, visitor), 'Admins only', 'The admin console is for admins.'));
    const { q, state } = view.filters;
    const query = new URLSearchParams({ limit: String(ADMIN_PAGE_SIZE) });
    if (q !== '') query.set('q', q);
    if (state !== 'all') query.set('banned', String(state === 'banned'));
    const [users, propagation] = await Promise.all([
      up.call('auth', 'GET', `/api/admin/users?${query}`),
      readPropagation(config.banMetrics, { timeoutMs: Math.min(config.upstreamTimeoutMs, PROPAGATION_TIMEOUT_MS), logger: requestLogger(res) ?? logger }),
    ]);
    if (users.status !== 200) return send(res, users.status, messagePage(context(req, res, visitor), 'Admin console', errorsOf(users)[0]!.message));
    send(res, view.status, adminPage(context(req, res, visitor), { users: listOf(users, isAdminUser), q, state, propagation, rowErrors: view.rowErrors }));
  }

  app.get('/admin', async (req, res) => {
    const filters = adminFilters(queryText(req, 'q'), queryText(req, 'state'));
    if (filters === undefined) {
      return send(res, 400, messagePage(context(req, res, undefined), 'Admin console', 'The search must be one line of at most 254 characters, and the state all, active or banned.', html`<p><a href="/admin">Back to all users</a></p>`));
    }
    await renderAdmin(req, res, upstream(req, res), { status: 200, filters });
  });

  for (const change of ['ban', 'unban'] as const) {
    app.post(`/admin/users/:id/${change}`, async (req, res) => {
      const id = pathSegment(req.params.id);
      if (id === undefined) return send(res, 404, messagePage(context(req, res, undefined), 'Not found', 'There is no such user.'));
      const up = upstream(req, res);
      const filters = adminFilters(field(req, 'q'), field(req, 'state'));
      const body = change === 'ban' ? { reason: field(req, 'reason') } : undefined;
      const answer = await up.asUser('auth', 'POST', `/api/admin/users/${id}/${change}`, body);
      if (answer.status === 200) return redirect(res, adminLocation(filters));
      if (answer.status === 401) return redirect(res, '/signin');
      await renderAdmin(req, res, up, { status: answer.status, filters: filters ?? { q: '', state: 'all' }, rowErrors: { userId: req.params.id, errors: errorsOf(answer) } });
    });
  }

  app.use((req, res) => {
    send(res, 404, messagePage(context(req, res, undefined), 'Not found', 'There is no such page.', html`<p><a href="/">Home</a></p>`));
  });

  app.use(pageErrors(logger, (req, res) => context(req, res, undefined)));
  return app;
}

interface Locals {
  upstream?: Upstream;
}

/** Sends a page, with the cookies the services set during the request. */
function send(res: Response, status: number, page: SafeHtml): void {
  (res.locals as Locals).upstream?.passOn(res);
  res.status(status).type('html').send(page.toString());
}

/** Redirects with 303 (the answer to a form: the browser loads the next page with a GET), with the cookies the services set. */
function redirect(res: Response, location: string): void {
  (res.locals as Locals).upstream?.passOn(res);
  res.redirect(303, location);
}

/**
 * Errors as pages: a malformed or oversized form is the visitor's 4xx, a service that did not
 * answer is a 503 that names it, and anything else is a 500 that says nothing of its cause.
 */
function pageErrors(logger: Logger, contextOf: (req: Request, res: Response) => PageContext): ErrorRequestHandler {
  return function renderError(err: unknown, req, res, next) {
    if (res.headersSent) return next(err);
    const log = requestLogger(res) ?? logger;
    const status = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
    if (err instanceof ServiceUnavailableError) {
      return send(res, 503, messagePage(contextOf(req, res), 'Unavailable', `The ${err.service} service is unavailable. Try again in a moment.`));
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      log.info({ status, type: (err as { type?: unknown }).type }, 'a malformed request was refused');
      const message = status === 413 ? 'The form is too large.' : 'The request could not be read.';
      return send(res, status, messagePage(contextOf(req, res), 'Bad request', message));
    }
    log.error({ err }, 'a page failed');
    send(res, 500, messagePage(contextOf(req, res), 'Something went wrong', 'Something went wrong. Try again in a moment.'));
  };
}
