import type { ErrorRequestHandler } from 'express';
import { HttpError } from './errors.js';
import type { Logger } from './logger.js';

/** Errors raised by express's body parsers carry a `type`; these are the caller's fault. */
interface BodyParserError {
  type: string;
  status?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string'
    && typeof (err as { status?: unknown }).status === 'number';
}

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (isBodyParserError(err)) {
    if (err.type === 'entity.parse.failed') return new HttpError('INVALID_JSON', { cause: err });
    if (err.type === 'entity.too.large') return new HttpError('BODY_TOO_LARGE', { cause: err });
    if (err.status !== undefined && err.status >= 400 && err.status < 500) {
      return new HttpError('BAD_REQUEST', { cause: err });
    }
  }
  return undefined;
}

/**
 * The last middleware of every service. An {@link HttpError} (or a body-parser error, which is the
 * caller's fault) keeps its status; anything else is a 500 whose body says nothing about internals
 * and whose cause is logged.
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
