import type { ErrorRequestHandler } from 'express';
import { HttpError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Express, its body parsers and its router raise errors that carry a 4xx `status` (or `statusCode`)
 * for the caller's mistakes: a malformed body, a bad `Content-Encoding`, a malformed path.
 */
function clientStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && code >= 400 && code < 500 ? code : undefined;
}

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  const status = clientStatus(err);
  if (status === undefined) return undefined;
  const type = (err as { type?: unknown }).type;
  if (type === 'entity.parse.failed') return new HttpError('INVALID_JSON', { cause: err });
  if (status === 413) return new HttpError('BODY_TOO_LARGE', { cause: err });
  return new HttpError('BAD_REQUEST', { cause: err });
}

/**
 * The last middleware of every service. An {@link HttpError} keeps its status, and an error that
 * express marked as the caller's (a 4xx `status`) is a 400 (413 for a body too large); anything
 * else is a 500 whose body says nothing about internals and whose cause is logged.
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
    let httpError = toHttpError(err);
    if (httpError === undefined) {
      logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
      httpError = new HttpError('INTERNAL');
    } else if (httpError.status >= 500) {
      logger.warn({ err: httpError.cause ?? httpError, method: req.method, path: req.path }, httpError.message);
    }
    res.status(httpError.status).json(httpError.toBody());
  };
}
