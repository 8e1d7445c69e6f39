import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  /** This service's registry; register service-specific metrics here. */
  readonly registry: Registry;
  /** Counts and times every request by method, route pattern and status. */
  readonly middleware: RequestHandler;
  /**
   * Counts and times one answered request, as `middleware` does for each: for a caller that
   * already watches every request end (`logRequests({ metrics })`), so it is not watched twice.
   */
  record(req: Request, res: Response, seconds: number): void;
  /** Serves the registry in the Prometheus text format. */
  readonly handler: RequestHandler;
}

const ROUTE_SCOPE = Symbol('routeScope');

/** Label sets whose bound metrics `record` keeps. */
const MAX_BOUND_LABEL_SETS = 1_000;

/**
 * Records the path a router-level middleware is mounted at (`router.use('/api/orders', ...)`), so
 * a request it answers itself (a 401 or 403 before any route matched) is labelled
 * `/api/orders/*`, not `unmatched`. The router resets `req.baseUrl` before the response ends, so
 * it is kept on the response.
 */
export function noteRouteScope(req: Request, res: Response): void {
  if (req.route === undefined && req.baseUrl !== '') (res.locals as Record<symbol, string>)[ROUTE_SCOPE] ??= `${req.baseUrl}/*`;
}

/** The route pattern, not the path, so that ids do not make a label per request. */
export function routeLabel(req: Request, res: Response): string {
  const route: unknown = req.route?.path;
  if (typeof route === 'string') return `${req.baseUrl}${route}`;
  return (res.locals as Record<symbol, string | undefined>)[ROUTE_SCOPE] ?? 'unmatched';
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
  // Bound per label set, so a request does not build its label objects again; label sets are
  // few (methods Node parses, route patterns, statuses), and the cache is bounded all the same.
  const bound = new Map<string, { counter: { inc(): void }; histogram: { observe(seconds: number): void } }>();
  const record = (req: Request, res: Response, seconds: number): void => {
    const route = routeLabel(req, res);
    const status = String(res.statusCode);
    const key = `${req.method} ${status} ${route}`;
    let metric = bound.get(key);
    if (metric === undefined) {
      metric = { counter: requests.labels({ method: req.method, route, status }), histogram: duration.labels({ method: req.method, route }) };
      if (bound.size < MAX_BOUND_LABEL_SETS) bound.set(key, metric);
    }
    metric.counter.inc();
    metric.histogram.observe(seconds);
  };
  return {
    registry,
    middleware: function countRequests(req, res, next) {
      const start = performance.now();
      res.once('finish', () => record(req, res, (performance.now() - start) / 1e3));
      next();
    },
    record,
    handler: async function serveMetrics(_req, res) {
      res.set('Content-Type', registry.contentType).send(await registry.metrics());
    },
  };
}

/**
 * The app that serves `GET /metrics` and nothing else, for a port of its own (`METRICS_PORT`) that
 * the ingress does not route: request counts and `ban_list_size` are not for the public.
 *
 * @example
 * await listen(createMetricsApp(metrics), config.metricsPort);
 */
export function createMetricsApp(metrics: Metrics): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metrics.handler);
  app.use(function notFound(_req, res) {
    res.status(404).json({ errors: [{ message: 'Route not found' }] });
  });
  return app;
}
