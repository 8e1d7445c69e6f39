// Running a service: config, logger, database, listening and shutting down, readiness, and
// `runService`, which puts them together with the other parts.
export {
  ConfigError, configReader, loadProcessConfig, loadServiceConfig, MAX_ACCESS_TOKEN_TTL_MS, MAX_BAN_CACHE_MAX, MAX_CLOCK_SKEW_MS,
  type Env, type ProcessConfig, type ServiceConfig, type ServiceDefaults,
} from './config.js';
export { readSigningKey, JWT_ALGORITHMS, type JwtAlgorithm } from './token-keys-config.js';
export { readNkeySeed } from './nats-credentials-config.js';
export { createServiceTokenVerifier } from './service-token-verifier.js';
export { parseDuration } from './duration.js';
export { createLogger, type LogFormat, type Logger } from './logger.js';
export { openDatabase, migrate, type Database, type MigrateOptions, type Queryable } from './database.js';
export { closeGracefully, listen, onShutdownSignal } from './serve.js';
export { serviceReadiness } from './readiness.js';
export {
  createServiceLogger, runService, type RunServiceOptions, type RunServiceWithoutDatabaseOptions, type ServiceDeps, type ServiceDepsWithoutDatabase, type ServiceParts,
} from './run-service.js';
