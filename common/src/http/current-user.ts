import type { Request, RequestHandler } from 'express';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { InvalidTokenError, type TokenRefusal, type TokenVerifier } from '../tokens/token-verifier.js';
import type { UserPayload } from '../tokens/user-payload.js';
import { sessionJwt } from './session-cookie.js';

declare global {
  // Express merges its Request type from this global namespace.
  namespace Express {
    interface Request {
      /** Set by `currentUser` when the request carries a valid access token. */
      currentUser?: UserPayload;
    }
  }
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
/** `<scheme> [credentials]` (RFC 7235 §2.1); the scheme is a token, matched case-insensitively. */
const AUTHORIZATION = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?: +(.*))?$/;

/** Refusals that mean this service and the signer disagree (configuration or clocks), not a stray token. */
const LOUD: ReadonlySet<TokenRefusal | 'bearer_malformed' | 'cookie_malformed'> = new Set(['lifetime', 'crit', 'issued_in_future']);

/**
 * How often an unknown `kid` is logged at warn. It may mean a key rotation that missed this
 * service, but anyone can write a `kid` (it is read before the signature is checked), so it is
 * not logged per request.
 */
const UNKNOWN_KID_WARN_INTERVAL_MS = 60_000;

type Found =
  | { token: string; source: 'header' | 'cookie' }
  | { malformed: 'bearer_malformed' | 'cookie_malformed'; source: 'header' | 'cookie' }
  | null;

/**
 * The request's token. A Bearer `Authorization` header wins: when present, the cookie is not
 * looked at, even if the header's token is malformed or refused. A header with another scheme (a
 * proxy's `Basic`) is not ours, so the session cookie is used.
 */
export function readToken(req: Request): Found {
  const header = req.headers.authorization?.trim();
  if (header !== undefined && header !== '') {
    const match = AUTHORIZATION.exec(header);
    if (match !== null && match[1]!.toLowerCase() === 'bearer') {
      const credentials = match[2]?.trim() ?? '';
      return JWT.test(credentials) ? { token: credentials, source: 'header' } : { malformed: 'bearer_malformed', source: 'header' };
    }
  }
  // Without a Cookie header there is no session to read (and cookie-session need not be set up).
  if (req.headers.cookie === undefined) return null;
  const jwt = sessionJwt(req);
  if (jwt === undefined || jwt === null) return null;
  if (typeof jwt !== 'string') return { malformed: 'cookie_malformed', source: 'cookie' };
  return { token: jwt, source: 'cookie' };
}

/**
 * Sets `req.currentUser` from a valid access token in the `Authorization: Bearer` header or, when
 * there is none, the cookie-session cookie (`{ jwt }`). A request without a valid token goes on
 * without a user. Each refusal is counted in `tokens_refused_total{reason}`; refusals that point
 * at a misconfiguration (a lifetime longer than this service's `ACCESS_TOKEN_TTL`, a `crit`
 * header, a token from the future) are logged at warn, the rest at debug, never with the token.
 * Mount after `cookieSession`.
 *
 * @example
 * app.use(currentUser({ verifier, logger, registry: metrics.registry }));
 */
export function currentUser(options: { verifier: TokenVerifier; logger: Logger; registry?: Registry }): RequestHandler {
  const { verifier, logger } = options;
  if (typeof verifier?.verify !== 'function') throw new TypeError('currentUser: verifier is required');
  const refused = new Counter({
    name: 'tokens_refused_total',
    help: 'Access tokens refused, by reason',
    labelNames: ['reason'] as const,
    registers: options.registry ? [options.registry] : [],
  });
  let lastUnknownKidWarningMs = Number.NEGATIVE_INFINITY;
  const refuse = (reason: TokenRefusal | 'bearer_malformed' | 'cookie_malformed', source: string, detail?: string) => {
    refused.inc({ reason });
    const fields = { reason, source, ...(detail === undefined ? {} : { detail }) };
    if (LOUD.has(reason)) {
      logger.warn(fields, 'token refused: the signer and this service disagree; the user is treated as signed out');
    } else if (reason === 'kid' && Date.now() - lastUnknownKidWarningMs >= UNKNOWN_KID_WARN_INTERVAL_MS) {
      lastUnknownKidWarningMs = Date.now();
      logger.warn(fields, 'token refused: it names no key this service holds (if auth signs with a new key, add its public key to JWT_PUBLIC_KEYS); logged at most once a minute');
    } else {
      logger.debug(fields, 'token refused');
    }
  };
  return function setCurrentUser(req, _res, next) {
    req.currentUser = undefined;
    const found = readToken(req);
    if (found === null) return next();
    if ('malformed' in found) {
      refuse(found.malformed, found.source);
      return next();
    }
    try {
      req.currentUser = verifier.verify(found.token);
    } catch (err) {
      if (!(err instanceof InvalidTokenError)) return next(err);
      // Only this library's own messages: a parser's message can quote the token's text.
      refuse(err.reason, found.source, LOUD.has(err.reason) ? err.message : undefined);
    }
    next();
  };
}
