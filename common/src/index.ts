export * from './errors.js';
export { errorHandler } from './error-handler.js';
export { currentUser } from './current-user.js';
export { refuseCrossSite } from './cross-site.js';
export { jsonBody } from './json-body.js';
export { canonicalUserId, uuidParam } from './user-id.js';
export { requireAuth, type BanChecker } from './require-auth.js';
export { requireRole } from './require-role.js';
export { validateRequest, type RequestSchemas } from './validate-request.js';
export { ROLES, type Role, type UserPayload } from './user-payload.js';
export { createTokenKey, MIN_JWT_KEY_BYTES } from './token-key.js';
export { createTokenSigner, TOKEN_ISSUER, type TokenSigner, type TokenSignerOptions, type HmacAlgorithm } from './token-signer.js';
export { createTokenVerifier, InvalidTokenError, type TokenRefusal, type TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';
export { parseDuration } from './duration.js';
export { ConfigError, configReader, loadServiceConfig, MAX_CLOCK_SKEW_MS, type Env, type ServiceConfig } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { openDatabase, migrate, isConnectionError, redactUrl, type Database, type Queryable } from './database.js';
export { createMetrics, type Metrics } from './metrics.js';
export { healthRoutes, NotReadyError, type ReadinessCheck } from './health.js';
export { createServiceApp, SESSION_COOKIE, JSON_BODY_LIMIT, type ServiceAppOptions } from './service-app.js';
export { listen, closeGracefully, onShutdownSignal, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './serve.js';
export { runService, type RunServiceOptions, type ServiceDeps, type ServiceParts } from './run-service.js';
export {
  AUTH_STREAM, Subjects, parseAuthEvent, checkAuthEvent, readBanEssentials, encodeEvent, isKnownSubject, MalformedEventError,
  type AuthEvent, type UserBannedPayload, type UserUnbannedPayload,
} from './events.js';
export { BanList, type BanListOptions, type BanApplyResult } from './ban-list.js';
export { connectNats, ensureAuthStream, authStreamConfig, AUTH_DUPLICATE_WINDOW_MS, AUTH_MIN_MAX_AGE_MS, type NatsClient, type NatsConnection, type ConnectNatsOptions } from './nats.js';
export { startBanSync, startServiceBanSync, serviceReadiness, type BanSync, type BanSyncOptions } from './ban-sync.js';
