import type { Request, RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  /** This service's registry; register service-specific metrics here. */
  readonly registry: Registry;
  /** Counts and times every request by method, route pattern and status. */
  readonly middleware: RequestHandler;
  /** Serves the registry in the Prometheus text format. */
  readonly handler: RequestHandler;
}

/** The route pattern, not the path, so that ids do not make a label per request. */
function routeLabel(req: Request): string {
  const route: unknown = req.route?.path;
  return typeof route === 'string' ? `${req.baseUrl}${route}` : 'unmatched';
}

/**
 * A Prometheus registry of its own (no global state, so tests can build many apps) with process
 * metrics, `http_requests_total` and `http_request_duration_seconds`.
 *
 * @example
 * const metrics = createMetrics({ service: 'orders' });
 * app.use(metrics.middleware);
 * app.get('/metrics', metrics.handler);
 */
export function createMetrics(options: { service: string }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    registry,
    middleware: function countRequests(req, res, next) {
      const start = process.hrtime.bigint();
      res.once('finish', () => {
        const route = routeLabel(req);
        requests.inc({ method: req.method, route, status: String(res.statusCode) });
        duration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - start) / 1e9);
      });
      next();
    },
    handler: async function serveMetrics(_req, res) {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    },
  };
}
