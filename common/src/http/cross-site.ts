import type { Request, RequestHandler } from 'express';
import { HttpError } from './errors.js';
import type { Logger } from 'pino';
import { readToken } from './current-user.js';
import { requestLogger } from './request-log.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether the browser says the request came from this origin (or from the user: a typed address,
 * a bookmark): `Sec-Fetch-Site` when it sends it, else `Origin` compared with the request's own
 * origin. A request with neither did not come from a page in a browser.
 *
 * @example
 * if (!isSameOriginRequest(req)) throw new HttpError('CROSS_SITE_REQUEST');
 */
export function isSameOriginRequest(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  // Set by the browser and out of a page's reach: `none` is the user typing or a bookmark.
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  // Older browsers: compare Origin with this service's own. A request with neither header did not
  // come from a page in a browser (which sends Origin on every cross-site POST), so nothing forged it.
  const origin = req.headers.origin;
  return origin === undefined || origin.toLowerCase() === `${req.protocol}://${req.host}`.toLowerCase();
}

/** Where a browser says the request came from: `same` (this origin or the user), `allowed`, or `foreign`. */
function provenance(req: Request, allowedOrigins: ReadonlySet<string>): 'same' | 'allowed' | 'foreign' {
  if (isSameOriginRequest(req)) return 'same';
  const origin = req.headers.origin;
  return origin !== undefined && allowedOrigins.has(origin.toLowerCase()) ? 'allowed' : 'foreign';
}

/**
 * Refuses (403) a state-changing request (POST, PUT, PATCH, DELETE, ...) that a browser sent from
 * another site, unless that site's origin is in `allowedOrigins`: otherwise any page could make a
 * signed-in visitor's browser cancel their orders or unban a user with the session cookie it
 * carries. `Sec-Fetch-Site` decides when the browser sends it, else `Origin` is compared with
 * this service's own origin. Bearer requests are exempt: the cookie plays no part in them, and a
 * page cannot add that header to a cross-site request. Mount before the routes.
 *
 * @example
 * app.use(refuseCrossSite({ allowedOrigins: config.allowedOrigins, logger }));
 */
export function refuseCrossSite(options: { allowedOrigins: readonly string[]; logger: Logger }): RequestHandler {
  const allowedOrigins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase()));
  const { logger } = options;
  return function refuseCrossSiteRequest(req, res, next) {
    if (SAFE_METHODS.has(req.method)) return next();
    const found = readToken(req);
    if (found !== null && found.source === 'header') return next();
    if (provenance(req, allowedOrigins) === 'foreign') {
      (requestLogger(res) ?? logger).info({ audit: 'cross_site.refused', method: req.method, path: req.path, origin: req.headers.origin, site: req.headers['sec-fetch-site'] }, 'cross-site request refused');
      throw new HttpError('CROSS_SITE_REQUEST');
    }
    next();
  };
}
