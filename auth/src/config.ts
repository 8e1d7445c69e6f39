import type { KeyObject } from 'node:crypto';
import { ConfigError, configReader, loadServiceConfig, readSigningKey, type Env, type ServiceConfig } from '@ticketing/common/runtime';

export interface AuthConfig extends ServiceConfig {
  /** What auth alone signs tokens with: the `JWT_KEY` secret (HS256) or `JWT_PRIVATE_KEY` (ES256). */
  signingKey: KeyObject;
  /** Accounts (lowercased) that sign up with the `admin` role. */
  adminEmails: readonly string[];
  /** Signups, and failed sign-ins, allowed per client address per minute (each counted on its own). */
  authRateLimitPerMinute: number;
  /** Failed sign-ins allowed per account (the normalised email) from one client address per minute. */
  authAccountRateLimitPerMinute: number;
  /** Failed sign-ins allowed per account per minute from all addresses together; more than `authAccountRateLimitPerMinute`. */
  authAccountGlobalRateLimitPerMinute: number;
  /**
   * Signups and sign-ins one client address (an IPv6 /56) may have in flight at once; past that,
   * 429 at once. Each waits for a password hash, and the hasher serves 2 at once and queues 32.
   */
  authInFlightPerAddress: number;
  /** A session's absolute lifetime from its sign-in (`REFRESH_TOKEN_TTL`), in ms. */
  refreshTokenTtlMs: number;
  /** How long a session may go unused before its refresh token stops working (`REFRESH_TOKEN_IDLE_TTL`), in ms. */
  refreshTokenIdleTtlMs: number;
  /** `AUTH_STREAM_REPLICAS`: the nodes of the NATS cluster that keep the `AUTH` stream (1 to 5; 3 on a 3-node cluster). */
  authStreamReplicas: number;
}

/** Reads and validates the auth service's settings (see the README's config table). */
export function loadConfig(env: Env): AuthConfig {
  const read = configReader(env);
  const service = loadServiceConfig(env, { port: 3000, metricsPort: 9300, dataDir: '.data/auth', signsTokens: true });
  const signingKey = readSigningKey(env, service);
  const adminEmails = Object.freeze(read.list('ADMIN_EMAILS').map((email) => email.toLowerCase()));
  const authRateLimitPerMinute = read.integer('AUTH_RATE_LIMIT', { default: 20, min: 1 });
  const authAccountRateLimitPerMinute = read.integer('AUTH_ACCOUNT_RATE_LIMIT', { default: 10, min: 1 });
  const authAccountGlobalRateLimitPerMinute = read.integer('AUTH_ACCOUNT_GLOBAL_RATE_LIMIT', { default: 100, min: 1 });
  // Far below the hasher's 2 running and 32 queued, so it takes many addresses to fill the queue.
  const authInFlightPerAddress = read.integer('AUTH_IN_FLIGHT_PER_ADDRESS', { default: 2, min: 1, max: 32 });
  // At or below the per-address limit, one address could lock an account out from everywhere again.
  if (authAccountGlobalRateLimitPerMinute <= authAccountRateLimitPerMinute) {
    throw new ConfigError(
      'AUTH_ACCOUNT_GLOBAL_RATE_LIMIT',
      `must be more than AUTH_ACCOUNT_RATE_LIMIT (${authAccountRateLimitPerMinute}), got ${authAccountGlobalRateLimitPerMinute}`,
    );
  }
  const refreshTokenTtlMs = read.durationMs('REFRESH_TOKEN_TTL', { default: '30d', minMs: 60_000, maxMs: 365 * 86_400_000 });
  const refreshTokenIdleTtlMs = read.durationMs('REFRESH_TOKEN_IDLE_TTL', { default: '7d', minMs: 60_000, maxMs: 365 * 86_400_000 });
  if (refreshTokenIdleTtlMs > refreshTokenTtlMs) {
    throw new ConfigError('REFRESH_TOKEN_IDLE_TTL', `must not be longer than REFRESH_TOKEN_TTL (${refreshTokenTtlMs}ms), got ${refreshTokenIdleTtlMs}ms`);
  }
  // A session that ends before its first access token would sign the user out without a word.
  if (refreshTokenIdleTtlMs <= service.accessTokenTtlMs) {
    throw new ConfigError('REFRESH_TOKEN_IDLE_TTL', `must be longer than ACCESS_TOKEN_TTL (${service.accessTokenTtlMs}ms), got ${refreshTokenIdleTtlMs}ms`);
  }
  // JetStream keeps at most 5 replicas of a stream; more than the cluster has nodes, and creating it fails (auth logs why and retries).
  const authStreamReplicas = read.integer('AUTH_STREAM_REPLICAS', { default: 1, min: 1, max: 5 });
  return { ...service, authStreamReplicas, signingKey, adminEmails, refreshTokenTtlMs, refreshTokenIdleTtlMs, authRateLimitPerMinute, authAccountRateLimitPerMinute, authAccountGlobalRateLimitPerMinute, authInFlightPerAddress };
}
