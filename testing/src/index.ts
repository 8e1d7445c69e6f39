export { waitFor } from './wait-for.js';
export { createTestDatabase, TEST_POSTGRES_URL, type TestDatabase } from './test-database.js';
export { silentLogger, capturingLogger } from './loggers.js';
export { freePort, portAccepts } from './free-port.js';
export { startPostgresServer, type PostgresServer } from './postgres-server.js';
export { startNatsServer, type NatsServer, type NatsServerOptions } from './nats-server.js';
export { startNatsCluster, type NatsCluster } from './nats-cluster.js';
export { startServiceProcess, type ServiceProcess, type ServiceProcessOptions } from './service-process.js';

/** A JWT key for tests only (32 bytes); never used outside them. */
export const TEST_JWT_KEY = 'test-only-jwt-key-0123456789abcdef';
export { postJson } from './post-json.js';
export { sessionCookieOf, jwtFromCookie, cookieWithJwt, cookieWithSession } from './session-cookie.js';
export { startTestServiceDeps, type TestServiceDeps } from './service-deps.js';
export { createAuthStream } from './auth-stream.js';
export { createEs256KeyPair, createNatsUser, type NatsUser } from './key-pairs.js';
