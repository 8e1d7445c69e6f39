import type { RequestHandler } from 'express';
import { HttpError } from '@ticketing/common/http';
import type { Logger } from '@ticketing/common/runtime';

/** What is wrong and which setting fixes it, logged once: it is a deployment mistake, not a client's. */
export const HTTPS_REQUIRED_LOG =
  'sessions need HTTPS in production (NODE_ENV=production): terminate TLS at a proxy that sends X-Forwarded-Proto: https and set TRUST_PROXY to the number of proxies in front of the service (0, the default, believes no X-Forwarded-* header), or unset NODE_ENV for a local plain-HTTP run';

/**
 * Answers 403 `HTTPS_REQUIRED` to a request that did not arrive over HTTPS, before any work is done.
 * Put it in front of the routes that answer with a `Secure` session cookie: over plain HTTP
 * cookie-session drops that cookie without a word, so the route would succeed and leave the client
 * signed out. `req.secure` follows express's `trust proxy` (`TRUST_PROXY`), so TLS ended at the
 * ingress counts when a trusted hop sends `X-Forwarded-Proto: https`; with no proxy trusted only the
 * service's own TLS counts. The first refusal is logged at error level, once
 * per middleware (one per process in a service).
 *
 * @example
 * router.post('/api/users/signin', requireHttps({ logger }), signinHandler);
 */
export function requireHttps(options: { logger: Logger }): RequestHandler {
  const { logger } = options;
  let reported = false;
  return function httpsOnly(req, _res, next) {
    if (req.secure) {
      next();
      return;
    }
    if (!reported) {
      reported = true;
      logger.error({ protocol: req.protocol, forwardedProto: req.get('x-forwarded-proto') ?? null }, HTTPS_REQUIRED_LOG);
    }
    throw new HttpError('HTTPS_REQUIRED');
  };
}
