import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { performance } from 'node:perf_hooks';
import { routeLabel, type Metrics } from './metrics.js';

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

/** A request's id, and its logger, made on first use: most requests log only their end line. */
class RequestLog {
  #logger: Logger | undefined;
  constructor(readonly id: string, readonly base: Logger) {}
  get logger(): Logger {
    return (this.#logger ??= this.base.child({ requestId: this.id }));
  }
}

interface RequestLocals {
  [REQUEST_LOG]?: RequestLog;
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
 * request id; at info, health probes at debug. Never a header, cookie or token. With `metrics`,
 * it also counts and times each answered request there (then `metrics.middleware` is not needed).
 * Mount first.
 *
 * @example
 * app.use(logRequests({ logger, metrics }));
 */
export function logRequests(options: { logger: Logger; metrics?: Pick<Metrics, 'record'> }): RequestHandler {
  const { logger, metrics } = options;
  // The end line's fields are these few, none of them a secret: it skips the redaction by name
  // that every other line gets, which costs more than the rest of the line.
  const lines = logger.child({}, { redact: [] });
  return function logRequest(req, res, next) {
    const offered = req.headers['x-request-id'];
    const id = typeof offered === 'string' && CALLER_REQUEST_ID.test(offered) ? offered : randomUUID();
    (res.locals as RequestLocals)[REQUEST_LOG] = new RequestLog(id, logger);
    res.setHeader(REQUEST_ID_HEADER, id);
    const start = performance.now();
    res.once('close', () => {
      const ms = performance.now() - start;
      if (metrics !== undefined && res.writableFinished) metrics.record(req, res, ms / 1e3);
      const route = routeLabel(req, res);
      const fields = {
        method: req.method,
        route,
        path: req.path,
        // A response that never went out has no status, whatever was set before the client left.
        status: res.writableFinished ? res.statusCode : null,
        ms: Math.round(ms * 100) / 100,
        userId: (res.locals as RequestLocals)[SIGNED_IN] ?? req.currentUser?.id ?? null,
        requestId: id,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      const message = res.writableFinished ? `${req.method} ${route} ${res.statusCode}` : `${req.method} ${route} aborted by the client`;
      if (isProbe(req)) lines.debug(fields, message);
      else lines.info(fields, message);
    });
    next();
  };
}
