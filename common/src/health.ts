import { Router } from 'express';

/** One readiness condition: resolves when it holds, throws (with a reason) when it does not. */
export type ReadinessCheck = () => Promise<void> | void;

/**
 * `GET /healthz/live` (the process answers) and `GET /healthz/ready` (every check holds; else 503
 * naming the ones that failed).
 *
 * @example
 * app.use(healthRoutes({ database: () => db.query('SELECT 1').then(() => undefined) }));
 */
export function healthRoutes(checks: Readonly<Record<string, ReadinessCheck>>): Router {
  const router = Router();
  router.get('/healthz/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/healthz/ready', async (_req, res) => {
    const failures: { message: string }[] = [];
    await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
      } catch (err) {
        failures.push({ message: `${name}: ${(err as Error).message}` });
      }
    }));
    if (failures.length > 0) res.status(503).json({ errors: failures });
    else res.json({ status: 'ready' });
  });
  return router;
}
