import type { LevelWithSilent } from 'pino';
import { parseDuration } from './duration.js';
import { MIN_JWT_KEY_BYTES } from '../tokens/token-key.js';
import { MAX_TRUST_PROXY_HOPS } from '../http/service-app.js';

/** A missing or invalid setting; its message is one line that names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads typed settings from an environment. Each reader throws {@link ConfigError} naming the
 * variable; an empty string counts as unset.
 *
 * @example
 * const read = configReader(process.env);
 * const port = read.integer('PORT', { default: 3000, min: 1, max: 65535 });
 */
export function configReader(env: Env) {
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    string(name: string, options: { default?: string } = {}): string {
      const value = raw(name) ?? options.default;
      if (value === undefined) throw new ConfigError(name, 'is required');
      return value;
    },
    optional(name: string): string | undefined {
      return raw(name);
    },
    integer(name: string, options: { default: number; min?: number; max?: number }): number {
      const text = raw(name);
      if (text === undefined) return options.default;
      const value = Number(text);
      const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new ConfigError(name, `must be an integer, got ${JSON.stringify(text)}`);
      if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
      return value;
    },
    durationMs(name: string, options: { default: string; minMs?: number; maxMs?: number }): number {
      const text = raw(name) ?? options.default;
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch {
        throw new ConfigError(name, `must be a duration such as 30s, 15m or 24h, got ${JSON.stringify(text)}`);
      }
      if (options.minMs !== undefined && ms < options.minMs) throw new ConfigError(name, `must be at least ${options.minMs}ms`);
      if (options.maxMs !== undefined && ms > options.maxMs) throw new ConfigError(name, `must be at most ${options.maxMs}ms, got ${JSON.stringify(text)}`);
      return ms;
    },
    secret(name: string, options: { minBytes: number }): string {
      const value = env[name];
      if (value === undefined || value === '') throw new ConfigError(name, 'is required (no default for secrets)');
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes < options.minBytes) throw new ConfigError(name, `must be at least ${options.minBytes} bytes, got ${bytes}`);
      return value;
    },
    url(name: string, options: { protocols: readonly string[]; default?: string }): string | undefined {
      const text = raw(name) ?? options.default;
      if (text === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new ConfigError(name, 'must be a URL');
      }
      if (!options.protocols.includes(url.protocol)) {
        throw new ConfigError(name, `must use ${options.protocols.join(' or ')}, got ${url.protocol}`);
      }
      return text;
    },
    list(name: string): string[] {
      return (raw(name) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
    },
    /** Comma-separated web origins (`https://app.example.com`), each in the form a browser sends. */
    origins(name: string): string[] {
      return this.list(name).map((item) => {
        let url: URL;
        try {
          url = new URL(item);
        } catch {
          throw new ConfigError(name, `must list origins such as https://app.example.com, got ${JSON.stringify(item)}`);
        }
        const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
        if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !bare) {
          throw new ConfigError(name, `must list origins (scheme://host[:port], nothing after), got ${JSON.stringify(item)}`);
        }
        return url.origin;
      });
    },
    oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
      const value = raw(name) ?? fallback;
      if (!(choices as readonly string[]).includes(value)) throw new ConfigError(name, `must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
      return value as T;
    },
  };
}

/**
 * The longest `ACCESS_TOKEN_TTL` accepted: 24 hours. Short access tokens are what keep the ban
 * list small; a longer one is a session, which is what refresh tokens are for.
 */
export const MAX_ACCESS_TOKEN_TTL_MS = 24 * 3_600_000;

/** The largest `BAN_CACHE_MAX` accepted; the list reserves memory for it up front. */
export const MAX_BAN_CACHE_MAX = 10_000_000;

/** The widest `CLOCK_SKEW` accepted: 5 minutes. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** Settings every service reads. */
export interface ServiceConfig {
  port: number;
  /** Where `GET /metrics` is served: a port of its own, which the ingress does not route. */
  metricsPort: number;
  production: boolean;
  /**
   * Proxy hops in front of the service whose X-Forwarded-For and X-Forwarded-Proto are believed
   * (`TRUST_PROXY`); 0 believes none, so the client address and scheme are the connection's own.
   */
  trustProxy: number;
  jwtKey: string;
  accessTokenTtlMs: number;
  clockSkewMs: number;
  /** A PostgreSQL URL; when unset the service embeds PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  natsUrl: string;
  banCacheMax: number;
  /** Other sites whose pages may send cookie-authenticated state-changing requests here. */
  allowedOrigins: readonly string[];
  logLevel: LevelWithSilent;
}

/**
 * Reads the settings every service shares (see the README's config table).
 *
 * @example
 * const config = Object.freeze({ ...loadServiceConfig(env, { port: 3001, metricsPort: 9301, dataDir: '.data/orders' }) });
 */
export function loadServiceConfig(env: Env, defaults: { port: number; metricsPort: number; dataDir: string }): ServiceConfig {
  const read = configReader(env);
  const port = read.integer('PORT', { default: defaults.port, min: 0, max: 65_535 });
  const metricsPort = read.integer('METRICS_PORT', { default: defaults.metricsPort, min: 0, max: 65_535 });
  if (metricsPort !== 0 && metricsPort === port) throw new ConfigError('METRICS_PORT', `must differ from PORT (${port}): metrics are not served on the public port`);
  // `false` is the same as 0. `true` (believe every hop) is refused: the left end of
  // X-Forwarded-For is whatever the client wrote there.
  const trustProxy = read.optional('TRUST_PROXY') === 'false'
    ? 0
    : read.integer('TRUST_PROXY', { default: 0, min: 0, max: MAX_TRUST_PROXY_HOPS });
  return {
    port,
    metricsPort,
    // Any other spelling ("Production", "prod") would silently drop secure cookies and HTTPS-only sign-in.
    production: read.oneOf('NODE_ENV', ['production', 'development', 'test'], 'development') === 'production',
    trustProxy,
    jwtKey: read.secret('JWT_KEY', { minBytes: MIN_JWT_KEY_BYTES }),
    accessTokenTtlMs: read.durationMs('ACCESS_TOKEN_TTL', { default: '15m', minMs: 1000, maxMs: MAX_ACCESS_TOKEN_TTL_MS }),
    // A tolerance this wide would be a clock problem to fix, not to tolerate: it widens every
    // ban window and lets tokens from the future through.
    clockSkewMs: read.durationMs('CLOCK_SKEW', { default: '30s', maxMs: MAX_CLOCK_SKEW_MS }),
    databaseUrl: read.url('DATABASE_URL', { protocols: ['postgres:', 'postgresql:'] }),
    dataDir: read.string('DATA_DIR', { default: defaults.dataDir }),
    natsUrl: read.url('NATS_URL', { protocols: ['nats:', 'tls:'], default: 'nats://127.0.0.1:4222' })!,
    banCacheMax: read.integer('BAN_CACHE_MAX', { default: 100_000, min: 1, max: MAX_BAN_CACHE_MAX }),
    allowedOrigins: Object.freeze(read.origins('ALLOWED_ORIGINS')),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}
