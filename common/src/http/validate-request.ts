import type { Request, RequestHandler } from 'express';
import { z, type ZodType } from 'zod';
import { UUID_PATTERN } from '../tokens/user-id.js';
import { ValidationError, type ErrorItem } from './errors.js';

/** The schemas a route validates its input with; each is optional. */
export interface RequestSchemas<Body extends ZodType = ZodType, Params extends ZodType = ZodType, Query extends ZodType = ZodType> {
  body?: Body;
  params?: Params;
  query?: Query;
}

/** What a schema that was given parses into; what express hands over when it was not. */
type Parsed<S, Otherwise> = S extends ZodType ? z.output<S> : Otherwise;

/** The handler `validateRequest` returns: typed so that the handlers after it see the parsed input. */
export type ValidatedHandler<Body, Params, Query> = RequestHandler<
  Parsed<Params, Request['params']>, unknown, Parsed<Body, unknown>, Parsed<Query, Request['query']>
>;

function check(schema: ZodType, value: unknown, items: ErrorItem[]): unknown {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const field = issue.path.map(String).join('.');
    items.push(field === '' ? { message: issue.message } : { message: issue.message, field });
  }
  return value;
}

/**
 * Parses `value` with `schema`, or throws the 400 `validateRequest` answers (one `{ message, field }`
 * per problem): for input a handler can only pick once it has looked at the request.
 *
 * @example
 * const { refreshToken } = validated(z.object({ refreshToken: z.string() }), req.body);
 */
export function validated<S extends ZodType>(schema: S, value: unknown): z.output<S> {
  const items: ErrorItem[] = [];
  const parsed = check(schema, value, items);
  if (items.length > 0) throw new ValidationError(items);
  return parsed as z.output<S>;
}

/**
 * Validates `req.body`, `req.params` and `req.query` against zod schemas and replaces them with the parsed
 * values; on failure answers 400 with one `{ message, field }` per problem. The handlers that
 * follow it in the same route see the parsed types, so they need no casts.
 *
 * @example
 * const signup = z.object({ email: z.email(), password: z.string().min(8) });
 * router.post('/api/users/signup', validateRequest({ body: signup }), (req, res) => {
 *   req.body.email; // string
 * });
 */
export function validateRequest<Body extends ZodType | undefined = undefined, Params extends ZodType | undefined = undefined, Query extends ZodType | undefined = undefined>(
  schemas: { body?: Body; params?: Params; query?: Query },
): ValidatedHandler<Body, Params, Query> {
  if (schemas.body === undefined && schemas.params === undefined && schemas.query === undefined) {
    throw new TypeError('validateRequest: give a body, params or query schema');
  }
  const validate: RequestHandler = function validate(req, _res, next) {
    const items: ErrorItem[] = [];
    const body = schemas.body ? check(schemas.body, req.body, items) : req.body;
    const params = schemas.params ? check(schemas.params, req.params, items) : req.params;
    const query = schemas.query ? check(schemas.query, req.query, items) : undefined;
    if (items.length > 0) throw new ValidationError(items);
    req.body = body;
    req.params = params as typeof req.params;
    // Express 5 computes req.query in a getter; the parsed value shadows it on this request.
    if (schemas.query) Object.defineProperty(req, 'query', { value: query, enumerable: true, configurable: true });
    next();
  };
  return validate as unknown as ValidatedHandler<Body, Params, Query>;
}

/**
 * A zod schema for an id that must be a UUID, parsed into its canonical lower-case form.
 *
 * @example
 * const params = z.object({ id: uuidParam('User id must be a UUID') });
 */
export function uuidParam(message: string) {
  return z.string({ error: message }).regex(UUID_PATTERN, { error: message }).transform((id) => id.toLowerCase());
}
