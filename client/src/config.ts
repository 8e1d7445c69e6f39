import { ConfigError, configReader, loadProcessConfig, type Env, type ProcessConfig } from '@ticketing/common/runtime';
/** Names a metrics endpoint in the admin console: a service or replica name. */
const ENDPOINT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const MAX_BAN_METRICS_ENDPOINTS = 32;

/** A service's metrics endpoint, read for how long the last ban event took to reach it. */
export interface MetricsEndpoint {
  name: string;
  url: string;
}

/** The web client's settings (see the README's config table): those of every process, and its own. */
export interface ClientConfig extends ProcessConfig {
  /** Where auth and orders answer, as origins (`http://auth:3000`); the client calls them server-side. */
  authUrl: string;
  ordersUrl: string;
  /** The longest a call to auth or orders may take before the page says the service is unavailable, in ms. */
  upstreamTimeoutMs: number;
  /** The HMAC key that signs anti-forgery tokens (`ANTI_FORGERY_KEY`); the same on every replica. */
  antiForgeryKey: string;
  /** `BAN_METRICS_URLS`: the endpoints the admin console reads ban propagation from. */
  banMetrics: readonly MetricsEndpoint[];
}

/** A service's base URL: http or https, nothing but scheme, host and port; kept as its origin. */
function serviceOrigin(read: ReturnType<typeof configReader>, name: string, fallback: string): string {
  const text = read.url(name, { protocols: ['http:', 'https:'], default: fallback }) ?? fallback;
  const url = new URL(text);
  if (url.username !== '' || url.password !== '') throw new ConfigError(name, 'must not hold credentials');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') throw new ConfigError(name, `must be an origin such as http://auth:3000, with no path: got ${JSON.stringify(text)}`);
  return url.origin;
}

/** `name=url,...`, each a unique name and an http(s) URL. */
function metricsEndpoints(read: ReturnType<typeof configReader>): MetricsEndpoint[] {
  const items = read.list('BAN_METRICS_URLS');
  if (items.length > MAX_BAN_METRICS_ENDPOINTS) throw new ConfigError('BAN_METRICS_URLS', `lists ${items.length} endpoints: at most ${MAX_BAN_METRICS_ENDPOINTS}`);
  const seen = new Set<string>();
  return items.map((item) => {
    const at = item.indexOf('=');
    const name = at === -1 ? '' : item.slice(0, at).trim().toLowerCase();
    const text = at === -1 ? '' : item.slice(at + 1).trim();
    if (!ENDPOINT_NAME.test(name)) throw new ConfigError('BAN_METRICS_URLS', `must list name=url pairs such as orders=http://orders:9301/metrics, got ${JSON.stringify(item)}`);
    if (seen.has(name)) throw new ConfigError('BAN_METRICS_URLS', `names ${name} twice`);
    seen.add(name);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError('BAN_METRICS_URLS', `must list name=url pairs, and ${name}'s is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('BAN_METRICS_URLS', `must use http: or https:, got ${url.protocol} for ${name}`);
    if (url.username !== '' || url.password !== '') throw new ConfigError('BAN_METRICS_URLS', `must not hold credentials (${name})`);
    return Object.freeze({ name, url: url.href });
  });
}

/** Reads and validates the web client's settings. */
export function loadConfig(env: Env): ClientConfig {
  const read = configReader(env);
  const processConfig = loadProcessConfig(env, { port: 3002, metricsPort: 9302 });
  // A key that can mint tokens has no place in a service that verifies none.
  for (const key of ['JWT_KEY', 'JWT_PRIVATE_KEY']) {
    if (read.optional(key) !== undefined) throw new ConfigError(key, 'is set, but the web client verifies no tokens (auth and orders do): remove it');
  }
  // It has no TLS of its own: in production HTTPS ends at a proxy, whose X-Forwarded-Proto and
  // X-Forwarded-For it must believe to tell the services the visitor's scheme and address.
  if (processConfig.production && processConfig.trustProxy === 0) throw new ConfigError('TRUST_PROXY', 'must count the proxy that ends TLS in front of the web client in production (1 behind one ingress)');
  const authUrl = serviceOrigin(read, 'AUTH_URL', 'http://127.0.0.1:3000');
  const ordersUrl = serviceOrigin(read, 'ORDERS_URL', 'http://127.0.0.1:3001');
  if (authUrl === ordersUrl) throw new ConfigError('ORDERS_URL', `must differ from AUTH_URL (${authUrl})`);
  return {
    ...processConfig,
    authUrl,
    ordersUrl,
    upstreamTimeoutMs: read.durationMs('UPSTREAM_TIMEOUT', { default: '5s', minMs: 100, maxMs: 60_000 }),
    antiForgeryKey: read.secret('ANTI_FORGERY_KEY', { minBytes: 32 }),
    banMetrics: Object.freeze(metricsEndpoints(read)),
  };
}
