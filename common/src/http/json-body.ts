import express, { type Request, type RequestHandler } from 'express';
import { HttpError } from './errors.js';

/** True when the request carries a body (RFC 9112 §6.3: a Transfer-Encoding, or a non-zero Content-Length). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined
    || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** The media type's charset parameter, lower-cased; `undefined` when there is none. */
function charsetOf(contentType: string): string | undefined {
  for (const parameter of contentType.split(';').slice(1)) {
    const [name, value] = parameter.split('=', 2).map((part) => part.trim());
    if (name?.toLowerCase() === 'charset') return value?.replace(/^"(.*)"$/, '$1').toLowerCase() ?? '';
  }
  return undefined;
}

/** What body-parser's errors mean to the caller; it only ever fails for the request's sake below 500. */
function fromBodyParser(err: unknown): unknown {
  const { status, type } = err as { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status >= 500) return err;
  if (type === 'entity.parse.failed') return new HttpError('INVALID_JSON', { cause: err });
  if (type === 'entity.too.large') return new HttpError('BODY_TOO_LARGE', { cause: err });
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') return new HttpError('UNSUPPORTED_MEDIA_TYPE', { cause: err });
  return new HttpError('BAD_REQUEST', { cause: err });
}

/**
 * Accepts only UTF-8 JSON request bodies (415 for any other media type or charset, such as
 * `text/plain`, `charset=utf-7` or `utf-16`), parses them with express's JSON parser up to
 * `limit`, and turns the parser's failures into {@link HttpError}s (400 malformed JSON, 413 too
 * large, 415 unknown `Content-Encoding`). A request without a body passes untouched.
 *
 * @example
 * app.use(jsonBody({ limit: '16kb' }));
 */
export function jsonBody(options: { limit: string }): RequestHandler {
  const parse = express.json({ limit: options.limit });
  return function parseJsonBody(req, res, next) {
    if (!hasBody(req)) return next();
    const contentType = req.headers['content-type'] ?? '';
    const charset = charsetOf(contentType);
    if (!req.is('application/json') || (charset !== undefined && charset !== 'utf-8')) {
      throw new HttpError('UNSUPPORTED_MEDIA_TYPE');
    }
    parse(req, res, (err?: unknown) => (err === undefined ? next() : next(fromBodyParser(err))));
  };
}
