// What an express service mounts: the error family and handler, the auth middlewares, request
// validation, body and cross-site rules, metrics, health, and the app that puts them together.
export {
  ERROR_CODES, HttpError, ValidationError, NotAuthenticatedError, ForbiddenError, UserBannedError, NotFoundError,
  ServiceUnavailableError, type ErrorBody, type ErrorCode, type ErrorItem,
} from './errors.js';
export { errorHandler } from './error-handler.js';
export { currentUser } from './current-user.js';
export { requireAuth, signedInUser } from './require-auth.js';
export { requireRole } from './require-role.js';
export { validateRequest, validated, uuidParam, type RequestSchemas, type ValidatedHandler } from './validate-request.js';
export { isSameOriginRequest, refuseCrossSite } from './cross-site.js';
export { jsonBody } from './json-body.js';
export { logRequests, noteSignedInUser, requestIdOf, requestLogger, REQUEST_ID_HEADER } from './request-log.js';
export { createMetrics, createMetricsApp, type Metrics } from './metrics.js';
export { securityHeaders, SECURITY_HEADERS } from './security-headers.js';
export { healthRoutes, NotReadyError, type ReadinessCheck } from './health.js';
export { createServiceApp, JSON_BODY_LIMIT, SESSION_COOKIE, type ServiceAppOptions } from './service-app.js';
