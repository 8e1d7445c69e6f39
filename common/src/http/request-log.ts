import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { routeLabel } from './metrics.js';

/** The header a request id is taken from and answered in. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * A request id a caller (a proxy, another service) may choose: up to 128 letters, digits and
 * `._:-`. Anything else (spaces, quotes, control characters, a long text) is not kept, so it can
 * neither forge a log line nor smuggle a secret into one: the request gets an id of its own.
 */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const REQUEST_LOG = Symbol('ticketing.requestLog');

const SIGNED_IN = Symbol('ticketing.requestSignedIn');

interface RequestLocals {
  [REQUEST_LOG]?: { id: string; logger: Logger };
  [SIGNED_IN]?: string;
}

/**
 * Names the user a request signed in (signup, signin, refresh): its log line shows them, rather
 * than whoever the request's old token named.
 */
export function noteSignedInUser(res: Response, userId: string): void {
  (res.locals as RequestLocals)[SIGNED_IN] = userId;
}

/** The request's logger (its lines carry `requestId`), once `logRequests` has run. */
export function requestLogger(res: Response): Logger | undefined {
  return (res.locals as RequestLocals)[REQUEST_LOG]?.logger;
}

/** The request's id, once `logRequests` has run. */
export function requestIdOf(res: Response): string | undefined {
  return (res.locals as RequestLocals)[REQUEST_LOG]?.id;
}

/** Health probes come every few seconds from the orchestrator: their lines are debug. */
function isProbe(req: Request): boolean {
  return req.path.startsWith('/healthz/');
}

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is well-formed, else a new
 * UUID), answers it in `X-Request-Id`, and logs one line when the request ends: method, route
 * pattern, path (never the query string), status, duration, the signed-in user's id and the
 * request id; at info, health probes at debug. Never a header, cookie or token. Mount first.
 *
 * @example
 * app.use(logRequests({ logger }));
 */
export function logRequests(options: { logger: Logger }): RequestHandler {
  const { logger } = options;
  return function logRequest(req, res, next) {
    const offered = req.get(REQUEST_ID_HEADER);
    const id = offered !== undefined && CALLER_REQUEST_ID.test(offered) ? offered : randomUUID();
    (res.locals as RequestLocals)[REQUEST_LOG] = { id, logger: logger.child({ requestId: id }) };
    res.setHeader(REQUEST_ID_HEADER, id);
    const start = process.hrtime.bigint();
    res.once('close', () => {
      const route = routeLabel(req, res);
      const fields = {
        method: req.method,
        route,
        path: req.path,
        // A response that never went out has no status, whatever was set before the client left.
        status: res.writableFinished ? res.statusCode : null,
        ms: Math.round(Number(process.hrtime.bigint() - start) / 1e4) / 100,
        userId: (res.locals as RequestLocals)[SIGNED_IN] ?? req.currentUser?.id ?? null,
        requestId: id,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      const message = res.writableFinished ? `${req.method} ${route} ${res.statusCode}` : `${req.method} ${route} aborted by the client`;
      if (isProbe(req)) logger.debug(fields, message);
      else logger.info(fields, message);
    });
    next();
  };
}
