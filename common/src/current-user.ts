import type { Request, RequestHandler } from 'express';
import type { Logger } from './logger.js';
import { InvalidTokenError, type TokenVerifier } from './token-verifier.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;

/** Where a request's token came from; `null` when it carries none. */
function readToken(req: Request): { token: string; source: 'header' | 'cookie' } | { malformed: string } | null {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    return match ? { token: match[1]!, source: 'header' } : { malformed: 'authorization header is not a Bearer JWT' };
  }
  const jwt: unknown = req.session?.jwt;
  if (jwt === undefined || jwt === null) return null;
  if (typeof jwt !== 'string') return { malformed: 'session jwt is not a string' };
  return { token: jwt, source: 'cookie' };
}

/**
 * Sets `req.currentUser` from a valid access token in the `Authorization: Bearer` header or, failing
 * that, the cookie-session cookie (`{ jwt }`). A request without a valid token goes on without a
 * user; why its token was refused is logged at debug. Mount after `cookieSession`.
 *
 * @example
 * app.use(currentUser({ verifier, logger }));
 */
export function currentUser(options: { verifier: TokenVerifier; logger: Logger }): RequestHandler {
  const { verifier, logger } = options;
  if (typeof verifier?.verify !== 'function') throw new TypeError('currentUser: verifier is required');
  return function setCurrentUser(req, _res, next) {
    req.currentUser = undefined;
    const found = readToken(req);
    if (found === null) return next();
    if ('malformed' in found) {
      logger.debug({ reason: found.malformed }, 'token refused');
      return next();
    }
    try {
      req.currentUser = verifier.verify(found.token);
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) return next(err);
      logger.debug({ reason: err.reason, source: found.source }, 'token refused');
    }
    next();
  };
}
