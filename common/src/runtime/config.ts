import type { LevelWithSilent } from 'pino';
import { MAX_TRUST_PROXY_HOPS } from '../http/service-app.js';
import type { VerificationKeys } from '../tokens/token-verifier.js';
import { MAX_TOKEN_CACHE_ENTRIES } from '../tokens/verified-token-cache.js';
import { ConfigError, configReader, type Env } from './config-reader.js';
import { readNkeySeed } from './nats-credentials-config.js';
import { readVerificationKeys, type JwtAlgorithm } from './token-keys-config.js';
import type { LogFormat } from './logger.js';

export { ConfigError, configReader, type Env };

const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

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
  /** `JWT_ALGORITHM`: HS256 with a shared `JWT_KEY`, or ES256 with auth's `JWT_PUBLIC_KEYS`. */
  jwtAlgorithm: JwtAlgorithm;
  /** The keys tokens are verified with, parsed once: the `JWT_KEY` secret, or the `JWT_PUBLIC_KEYS`. */
  tokenKeys: VerificationKeys;
  /** Verified tokens remembered until their `exp` (`TOKEN_CACHE_MAX`); 0 verifies every request afresh. */
  tokenCacheMax: number;
  accessTokenTtlMs: number;
  clockSkewMs: number;
  /** A PostgreSQL URL; when unset the service embeds PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  natsUrl: string;
  /** The NKey user seed from `NATS_NKEY_SEED_FILE`, which signs in to NATS; unset: the credentials in `natsUrl`, if any. */
  natsNkeySeed: string | undefined;
  banCacheMax: number;
  /** Other sites whose pages may send cookie-authenticated state-changing requests here. */
  allowedOrigins: readonly string[];
  logLevel: LevelWithSilent;
  /** `LOG_FORMAT`; unset: pretty lines when the output is a terminal, JSON otherwise (always JSON in production). */
  logFormat: LogFormat | undefined;
}

/** Where a service listens and keeps its files unless told otherwise, and whether it signs tokens. */
export interface ServiceDefaults {
  port: number;
  metricsPort: number;
  dataDir: string;
  /** Only auth: it may hold `JWT_PRIVATE_KEY`, which every other service refuses at startup. */
  signsTokens?: boolean;
}

/** What every process of the system reads, the services and the web client alike: where it listens, its mode, the proxies it believes, its logs. */
export type ProcessConfig = Pick<ServiceConfig, 'port' | 'metricsPort' | 'production' | 'trustProxy' | 'logLevel' | 'logFormat'>;

/**
 * Reads `PORT`, `METRICS_PORT`, `TRUST_PROXY`, `NODE_ENV`, `LOG_LEVEL` and `LOG_FORMAT`, with the
 * process's own default ports.
 *
 * @example
 * const { port, production } = loadProcessConfig(env, { port: 3002, metricsPort: 9302 });
 */
export function loadProcessConfig(env: Env, defaults: { port: number; metricsPort: number }): ProcessConfig {
  const read = configReader(env);
  const port = read.integer('PORT', { default: defaults.port, min: 0, max: 65_535 });
  const metricsPort = read.integer('METRICS_PORT', { default: defaults.metricsPort, min: 0, max: 65_535 });
  if (metricsPort !== 0 && metricsPort === port) throw new ConfigError('METRICS_PORT', `must differ from PORT (${port}): metrics are not served on the public port`);
  // `false` is the same as 0. `true` (believe every hop) is refused: the left end of
  // X-Forwarded-For is whatever the client wrote there.
  const trustProxy = read.optional('TRUST_PROXY') === 'false'
    ? 0
    : read.integer('TRUST_PROXY', { default: 0, min: 0, max: MAX_TRUST_PROXY_HOPS });
  // Any other spelling ("Production", "prod") would silently drop secure cookies and HTTPS-only sign-in.
  const production = read.oneOf('NODE_ENV', ['production', 'development', 'test'], 'development') === 'production';
  const logFormat = read.optional('LOG_FORMAT') === undefined ? undefined : read.oneOf<LogFormat>('LOG_FORMAT', ['json', 'pretty'], 'json');
  if (production && logFormat === 'pretty') throw new ConfigError('LOG_FORMAT', 'must be json in production: log collectors read JSON lines');
  return { port, metricsPort, production, trustProxy, logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'), logFormat };
}

/**
 * Reads the settings every service shares (see the README's config table).
 *
 * @example
 * const config = Object.freeze({ ...loadServiceConfig(env, { port: 3001, metricsPort: 9301, dataDir: '.data/orders' }) });
 */
export function loadServiceConfig(env: Env, defaults: ServiceDefaults): ServiceConfig {
  const read = configReader(env);
  const processConfig = loadProcessConfig(env, defaults);
  const { jwtAlgorithm, tokenKeys } = readVerificationKeys(env, { signs: defaults.signsTokens === true });
  const natsUrl = read.urls('NATS_URL', { protocols: ['nats:', 'tls:'], default: 'nats://127.0.0.1:4222' });
  const credentials = new Set(natsUrl.split(',').map((item) => { const url = new URL(item); return `${url.username}:${url.password}`; }));
  if (credentials.size > 1) throw new ConfigError('NATS_URL', 'lists servers with different credentials: give every one the same');
  return {
    ...processConfig,
    jwtAlgorithm,
    tokenKeys: Object.freeze(tokenKeys),
    tokenCacheMax: read.integer('TOKEN_CACHE_MAX', { default: 10_000, min: 0, max: MAX_TOKEN_CACHE_ENTRIES }),
    accessTokenTtlMs: read.durationMs('ACCESS_TOKEN_TTL', { default: '15m', minMs: 1000, maxMs: MAX_ACCESS_TOKEN_TTL_MS }),
    // A tolerance this wide would be a clock problem to fix, not to tolerate: it widens every
    // ban window and lets tokens from the future through.
    clockSkewMs: read.durationMs('CLOCK_SKEW', { default: '30s', maxMs: MAX_CLOCK_SKEW_MS }),
    databaseUrl: read.url('DATABASE_URL', { protocols: ['postgres:', 'postgresql:'] }),
    dataDir: read.string('DATA_DIR', { default: defaults.dataDir }),
    natsUrl,
    natsNkeySeed: readNkeySeed(env, natsUrl),
    banCacheMax: read.integer('BAN_CACHE_MAX', { default: 100_000, min: 1, max: MAX_BAN_CACHE_MAX }),
    allowedOrigins: Object.freeze(read.origins('ALLOWED_ORIGINS')),
  };
}
