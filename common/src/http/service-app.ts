import express, { type Express, type RequestHandler, type Router } from 'express';
import cookieSession from 'cookie-session';
import helmet from 'helmet';
import { refuseCrossSite } from './cross-site.js';
import { currentUser } from './current-user.js';
import { errorHandler } from './error-handler.js';
import { NotFoundError } from './errors.js';
import { healthRoutes, type ReadinessCheck } from './health.js';
import { jsonBody } from './json-body.js';
import { logRequests } from './request-log.js';
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
 * (`X-Request-Id`), helmet, metrics, health, the
 * session cookie, `currentUser`, cross-site refusal for state-changing requests, UTF-8 JSON
 * bodies only, a 404 for unknown routes and the error handler.
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
  app.use(logRequests({ logger }));
  app.use(helmet());
  app.use(metrics.middleware);
  app.use(healthRoutes(options.readiness, { logger }));
  app.use(cookieSession({
    name: SESSION_COOKIE,
    // The JWT inside is signed already, and an unsigned cookie can be read by services in any language.
    signed: false,
    httpOnly: true,
    sameSite: 'lax',
    secure: production,
  }));
  app.use(currentUser({ verifier: options.verifier, logger, registry: metrics.registry }));
  // Before the body is read: a forged request is refused as such, whatever it carries.
  app.use(refuseCrossSite({ allowedOrigins: options.allowedOrigins ?? [], logger }));
  app.use(jsonBody({ limit: JSON_BODY_LIMIT }));
  app.use(options.routes);
  app.use(function notFound() {
    throw new NotFoundError('Route not found');
  });
  app.use(errorHandler({ logger }));
  return app;
}
