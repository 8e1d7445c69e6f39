import { configReader, loadServiceConfig, type Env, type ServiceConfig } from '@ticketing/common';

export interface AuthConfig extends ServiceConfig {
  /** Accounts (lowercased) that sign up with the `admin` role. */
  adminEmails: readonly string[];
  /** Signup and signin attempts allowed per client address per minute. */
  authRateLimitPerMinute: number;
}

/** Reads and validates the auth service's settings (see the README's config table). */
export function loadConfig(env: Env): AuthConfig {
  const read = configReader(env);
  return {
    ...loadServiceConfig(env, { port: 3000, dataDir: '.data/auth' }),
    adminEmails: Object.freeze(read.list('ADMIN_EMAILS').map((email) => email.toLowerCase())),
    authRateLimitPerMinute: read.integer('AUTH_RATE_LIMIT', { default: 20, min: 1 }),
  };
}
