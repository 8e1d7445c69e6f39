import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import cookieSession from 'cookie-session';
import { refuseCrossSite } from './cross-site.js';
import { currentUser } from './current-user.js';
import { errorHandler } from './error-handler.js';
import { NotFoundError } from './errors.js';
import { healthRoutes, type ReadinessCheck } from './health.js';
import { jsonBody } from './json-body.js';
import { logRequests } from './request-log.js';
import { securityHeaders } from './security-headers.js';
import { READ_SESSION_JWT, sessionJwtOf } from './session-cookie.js';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import type { TokenVerifier } from '../tokens/token-verifier.js';

/** The name of the cookie that carries the session (`{ jwt }`). */
export const SESSION_COOKIE = 'session';

/** The most proxy hops `trustProxy` (`TRUST_PROXY`) accepts: more than a real deployment puts in front of a service. */
export const MAX_TRUST_PROXY_HOPS = 10;

/** The largest JSON body accepted; larger bodies get 413. */
export const JSON_BODY_LIMIT = '16kb';

export interface ServiceAppOptions {
  production: boolean;
  /**
   * Proxy hops in front of the service whose X-Forwarded-For and X-Forwarded-Proto are believed
   * (`TRUST_PROXY`), an integer from 0 to 10. Default 0: the client address and scheme are the
   * connection's own, whatever the request's headers say, in production too.
   */
  trustProxy?: number;
  logger: Logger;
  metrics: Metrics;
  verifier: TokenVerifier;
  readiness: Readonly<Record<string, ReadinessCheck>>;
  /** Other sites' origins allowed to send cookie-authenticated state-changing requests (`ALLOWED_ORIGINS`). */
  allowedOrigins?: readonly string[];
  routes: Router | RequestHandler;
}

/**
 * The express app every service shares around its own routes: a log line and an id per request
 * (`X-Request-Id`), metrics, the API security headers (`SECURITY_HEADERS`), health, the session
 * cookie (cookie-session set up only for a request that uses `req.session`), `currentUser`,
 * cross-site refusal for state-changing requests, UTF-8 JSON bodies only, a 404 for unknown
 * routes and the error handler.
 *
 * @example
 * const app = createServiceApp({ production, trustProxy: config.trustProxy, logger, metrics, verifier, readiness, routes: ordersRouter(deps) });
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const { production, logger, metrics } = options;
  const trustProxy = options.trustProxy ?? 0;
  if (!Number.isSafeInteger(trustProxy) || trustProxy < 0 || trustProxy > MAX_TRUST_PROXY_HOPS) {
    throw new TypeError(`createServiceApp: trustProxy must be an integer from 0 to ${MAX_TRUST_PROXY_HOPS}, got ${String(trustProxy)}`);
  }
  const app = express();
  // Only as many X-Forwarded-* entries as there are proxies that append them: beyond those, and
  // with no proxy at all, they are whatever the client sent (its own choice of address and scheme).
  app.set('trust proxy', trustProxy === 0 ? false : trustProxy);
  // An API's answers are per user and per moment: a hash of every body for conditional GETs is
  // work no client of these routes uses.
  app.set('etag', false);
  app.disable('x-powered-by');
  const health = healthRoutes(options.readiness, { logger });
  setUpSessionsOnFirstUse(app, cookieSession({
    name: SESSION_COOKIE,
    // The JWT inside is signed already, and an unsigned cookie can be read by services in any language.
    signed: false,
    httpOnly: true,
    sameSite: 'lax',
    secure: production,
  }));
  // What every request goes through before the routes, run as one express layer: each layer costs
  // the router a match and a call, on every request.
  app.use(inSequence([
    logRequests({ logger, metrics }),
    securityHeaders(),
    function healthProbes(req, res, next) {
      if (req.path.startsWith('/healthz/')) return health(req, res, next);
      next();
    },
    currentUser({ verifier: options.verifier, logger, registry: metrics.registry }),
    // Before the body is read: a forged request is refused as such, whatever it carries.
    refuseCrossSite({ allowedOrigins: options.allowedOrigins ?? [], logger }),
    jsonBody({ limit: JSON_BODY_LIMIT }),
  ]));
  app.use(options.routes);
  app.use(function notFound() {
    throw new NotFoundError('Route not found');
  });
  app.use(errorHandler({ logger }));
  return app;
}

/**
 * The handlers in order, as one: each one's `next()` calls the next, an error (passed or thrown,
 * or a rejected promise) goes to express's error handlers, and the last one's `next()` goes on to
 * the app's next layer.
 */
function inSequence(handlers: readonly RequestHandler[]): RequestHandler {
  return function runInSequence(req: Request, res: Response, done: NextFunction) {
    let index = 0;
    const next = (err?: unknown): void => {
      // As in express, a falsy value is no error; `'route'` and `'router'` skip nothing here, so
      // every shared middleware (the cross-site check among them) still runs.
      if (err && err !== 'route' && err !== 'router') return done(err);
      const handler = handlers[index++];
      if (handler === undefined) return done();
      try {
        const result: unknown = handler(req, res, next);
        if (result instanceof Promise) result.catch(done);
      } catch (thrown) {
        done(thrown);
      }
    };
    next();
  };
}

/**
 * Gives the app's requests a `req.session` that sets cookie-session up for the request when it is
 * first read or set, not before: reading the token does not need it (`sessionJwtOf` reads the
 * cookie as cookie-session would), so only a request that changes its session (signing in or
 * out, a banned user's) sets it up. Whatever touches the session does so before the answer's
 * headers go out, which is when cookie-session writes its cookie, so nothing changes for a
 * request that uses it. The accessors live on the app's request prototype, so a request costs
 * nothing until then; cookie-session then defines `session` on the request itself. It sets itself
 * up synchronously (it calls `next` before returning); if it ever did not, this throws.
 */
function setUpSessionsOnFirstUse(app: Express, setUp: RequestHandler): void {
  const install = (req: Request): void => {
    let installed = false;
    void setUp(req, req.res!, () => { installed = true; });
    if (!installed) throw new Error('cookie-session did not set up the session synchronously');
  };
  Object.defineProperty(app.request, 'session', {
    configurable: true,
    enumerable: true,
    get(this: Request) {
      install(this);
      return this.session;
    },
    set(this: Request, value: unknown) {
      install(this);
      this.session = value as typeof this.session;
    },
  });
  Object.defineProperty(app.request, READ_SESSION_JWT, {
    value(this: Request): unknown {
      return Object.hasOwn(this, 'session') ? this.session?.jwt : sessionJwtOf(this.headers.cookie, SESSION_COOKIE);
    },
  });
}
