import { configReader, loadServiceConfig, type Env, type ServiceConfig } from '@ticketing/common';

export interface AuthConfig extends ServiceConfig {
  /** Accounts (lowercased) that sign up with the `admin` role. */
  adminEmails: readonly string[];
  /** Signups, and failed sign-ins, allowed per client address per minute (each counted on its own). */
  authRateLimitPerMinute: number;
  /** Failed sign-ins allowed per account (the normalised email) per minute, from any address. */
  authAccountRateLimitPerMinute: number;
}

/** Reads and validates the auth service's settings (see the README's config table). */
export function loadConfig(env: Env): AuthConfig {
  const read = configReader(env);
  return {
    ...loadServiceConfig(env, { port: 3000, dataDir: '.data/auth' }),
    adminEmails: Object.freeze(read.list('ADMIN_EMAILS').map((email) => email.toLowerCase())),
    authRateLimitPerMinute: read.integer('AUTH_RATE_LIMIT', { default: 20, min: 1 }),
    authAccountRateLimitPerMinute: read.integer('AUTH_ACCOUNT_RATE_LIMIT', { default: 10, min: 1 }),
  };
}
