import type { ErrorRequestHandler } from 'express';
import { HttpError } from './errors.js';
import { requestLogger } from './request-log.js';
import type { Logger } from 'pino';

/**
 * The few errors that are known to be the caller's without being an {@link HttpError}: express's
 * router fails to decode a malformed percent-encoded path parameter with a `URIError` it marks
 * 400. (Body parser failures are mapped where the body is parsed, by `jsonBody`.) Anything else
 * carrying a 4xx `status` is not trusted: a library's status is not a verdict on the request.
 */
function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof URIError && (err as { status?: unknown }).status === 400) return new HttpError('BAD_REQUEST', { cause: err });
  return undefined;
}

/**
 * The last middleware of every service. An {@link HttpError} keeps its status, and a malformed
 * path is a 400; anything else is a 500 whose body says nothing about internals and whose cause
 * is logged.
 *
 * @example
 * app.use(errorHandler({ logger }));
 */
export function errorHandler(options: { logger: Logger }): ErrorRequestHandler {
  const { logger } = options;
  return function handleError(err, req, res, next) {
    if (res.headersSent) {
      next(err);
      return;
    }
    const log = requestLogger(res) ?? logger;
    let httpError = toHttpError(err);
    if (httpError === undefined) {
      log.error({ err, method: req.method, path: req.path }, 'unhandled error');
      httpError = new HttpError('INTERNAL');
    } else if (httpError.status >= 500) {
      log.warn({ err: httpError.cause ?? httpError, method: req.method, path: req.path }, httpError.message);
    }
    res.status(httpError.status).json(httpError.toBody());
  };
}
