/**
 * Every error a service answers with, in one table: its code, its HTTP status and its default
 * message. Only an {@link HttpError} picks a status; anything else thrown is a 500.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, message: 'Bad request' },
  VALIDATION_FAILED: { status: 400, message: 'Invalid request' },
  INVALID_JSON: { status: 400, message: 'Malformed JSON body' },
  INVALID_CREDENTIALS: { status: 400, message: 'Invalid credentials' },
  NOT_AUTHENTICATED: { status: 401, message: 'Not authenticated' },
  SESSION_REVOKED: { status: 401, message: 'Signed out everywhere; sign in again' },
  INVALID_REFRESH_TOKEN: { status: 401, message: 'Invalid or expired refresh token' },
  FORBIDDEN: { status: 403, message: 'Forbidden' },
  CROSS_SITE_REQUEST: { status: 403, message: 'Cross-site request refused' },
  HTTPS_REQUIRED: { status: 403, message: 'HTTPS is required to sign in' },
  USER_BANNED: { status: 403, message: 'User is banned' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  EMAIL_IN_USE: { status: 409, message: 'Email in use' },
  BODY_TOO_LARGE: { status: 413, message: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Request body must be UTF-8 JSON' },
  TOO_MANY_REQUESTS: { status: 429, message: 'Too many attempts, try again later' },
  INTERNAL: { status: 500, message: 'Something went wrong' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'Service temporarily unavailable' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One entry of the documented error body. */
export interface ErrorItem {
  message: string;
  field?: string;
}

/** The documented error body: `{ errors: [{ message, field? }] }`. */
export interface ErrorBody {
  errors: ErrorItem[];
}

/**
 * The one error family that chooses an HTTP status. Throw it from a handler; `errorHandler`
 * answers with its status and `{ errors }`.
 *
 * @example
 * throw new HttpError('NOT_FOUND', { message: 'Order not found' });
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly items: ErrorItem[];

  constructor(code: ErrorCode, options: { message?: string; items?: ErrorItem[]; cause?: unknown } = {}) {
    const message = options.message ?? ERROR_CODES[code].message;
    super(message, { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.items = options.items ?? [{ message }];
  }

  toBody(): ErrorBody {
    return { errors: this.items.map((item) => ({ ...item })) };
  }
}

/** 400 with one item per invalid field. */
export class ValidationError extends HttpError {
  constructor(items: ErrorItem[]) {
    super('VALIDATION_FAILED', { items });
  }
}

/** 401: no valid token came with the request. */
export class NotAuthenticatedError extends HttpError {
  constructor() {
    super('NOT_AUTHENTICATED');
  }
}

/** 403: signed in, but not allowed. */
export class ForbiddenError extends HttpError {
  constructor(message?: string) {
    super('FORBIDDEN', { message });
  }
}

/** 403 `User is banned`. */
export class UserBannedError extends HttpError {
  constructor() {
    super('USER_BANNED');
  }
}

/** 404. */
export class NotFoundError extends HttpError {
  constructor(message?: string) {
    super('NOT_FOUND', { message });
  }
}

/** 503: a dependency (the database) is unreachable; retrying later may succeed. */
export class ServiceUnavailableError extends HttpError {
  constructor(options: { message?: string; cause?: unknown } = {}) {
    super('SERVICE_UNAVAILABLE', options);
  }
}
