import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const KEY = 'a-client-anti-forgery-key-of-32-bytes!';
const load = (env: Record<string, string>) => loadConfig({ ANTI_FORGERY_KEY: KEY, ...env });

describe('the client\'s config', () => {
  it('has defaults for everything but the anti-forgery key, and keeps service URLs as origins', () => {
    expect(load({})).toMatchObject({
      port: 3002, metricsPort: 9302, production: false, trustProxy: 0, authUrl: 'http://127.0.0.1:3000', ordersUrl: 'http://127.0.0.1:3001',
      upstreamTimeoutMs: 5_000, banMetrics: [],
    });
    expect(load({ AUTH_URL: 'http://Auth:3000/', TRUST_PROXY: '1' })).toMatchObject({ authUrl: 'http://auth:3000', trustProxy: 1 });
    expect(load({ NODE_ENV: 'production', TRUST_PROXY: '1' })).toMatchObject({ production: true, trustProxy: 1 });
    expect(load({ BAN_METRICS_URLS: 'Orders=http://orders:9301/metrics, auth=http://auth:9300/metrics' }).banMetrics)
      .toEqual([{ name: 'orders', url: 'http://orders:9301/metrics' }, { name: 'auth', url: 'http://auth:9300/metrics' }]);
  });

  it.each([
    [{ ANTI_FORGERY_KEY: '' }, /ANTI_FORGERY_KEY is required/],
    [{ ANTI_FORGERY_KEY: 'short' }, /ANTI_FORGERY_KEY must be at least 32 bytes/],
    [{ JWT_KEY: 'x'.repeat(40) }, /JWT_KEY is set, but the web client verifies no tokens/],
    [{ JWT_PRIVATE_KEY: 'pem' }, /JWT_PRIVATE_KEY is set/],
    [{ AUTH_URL: 'http://auth:3000/api' }, /AUTH_URL must be an origin/],
    [{ ORDERS_URL: 'http://user:pw@orders:3001' }, /ORDERS_URL must not hold credentials/],
    [{ AUTH_URL: 'ftp://auth' }, /AUTH_URL/],
    [{ METRICS_PORT: '3002' }, /METRICS_PORT must differ from PORT/],
    [{ TRUST_PROXY: '11' }, /TRUST_PROXY/],
    [{ UPSTREAM_TIMEOUT: '10ms' }, /UPSTREAM_TIMEOUT/],
    [{ BAN_METRICS_URLS: 'orders' }, /must list name=url pairs/],
    [{ BAN_METRICS_URLS: 'a=http://a/metrics,A=http://b/metrics' }, /names a twice/],
    [{ BAN_METRICS_URLS: 'a=file:///etc/passwd' }, /must use http: or https:/],
    [{ BAN_METRICS_URLS: 'a=not a url' }, /a's is not a URL/],
    [{ BAN_METRICS_URLS: 'a=http://u:p@a/metrics' }, /must not hold credentials/],
    [{ BAN_METRICS_URLS: Array.from({ length: 33 }, (_, i) => `s${i}=http://s${i}/metrics`).join(',') }, /at most 32/],
    [{ NODE_ENV: 'production', LOG_FORMAT: 'pretty', TRUST_PROXY: '1' }, /LOG_FORMAT must be json in production/],
    [{ NODE_ENV: 'production' }, /TRUST_PROXY must count the proxy that ends TLS/],
    [{ AUTH_URL: 'http://services:3000', ORDERS_URL: 'http://SERVICES:3000/' }, /ORDERS_URL must differ from AUTH_URL/],
  ])('refuses %j', (env, message) => {
    expect(() => load(env)).toThrow(message);
  });
});
