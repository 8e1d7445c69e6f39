import { Router } from 'express';
import type { Logger } from 'pino';

/**
 * One readiness condition: resolves when it holds, throws when it does not. Throw a
 * {@link NotReadyError} for a reason that may be shown to anyone who asks `/healthz/ready`; any
 * other error (a database driver's, say) is logged, and the answer only says the check is not ready.
 */
export type ReadinessCheck = () => Promise<void> | void;

/**
 * A readiness check's failure whose message is public: `/healthz/ready` shows it as
 * `<check>: <message>`. Keep it free of internals (hosts, SQL, driver text).
 *
 * @example
 * if (!banSync.isCaughtUp()) throw new NotReadyError('replaying recent ban events');
 */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

/**
 * `GET /healthz/live` (the process answers) and `GET /healthz/ready` (every check holds; else 503
 * naming the ones that failed: `<check>: not ready`, or the message of a {@link NotReadyError}).
 * With a `logger`, a check's error is logged with the check's name (at warn; a `NotReadyError` at
 * info) when the check starts failing or its public reason changes, and its recovery at info: once
 * per change, not once per probe.
 *
 * @example
 * app.use(healthRoutes({ database: () => db.query('SELECT 1').then(() => undefined) }, { logger }));
 */
export function healthRoutes(checks: Readonly<Record<string, ReadinessCheck>>, options: { logger?: Logger } = {}): Router {
  const { logger } = options;
  /** What each check answered last: `''` when it held, else the public message. */
  const last = new Map<string, string>();

  function record(check: string, err: unknown): string {
    const message = err instanceof NotReadyError ? `${check}: ${err.message}` : `${check}: not ready`;
    if (last.get(check) !== message) {
      last.set(check, message);
      if (err instanceof NotReadyError) logger?.info({ check, reason: err.message }, 'readiness check not ready');
      else logger?.warn({ check, err }, 'readiness check failed');
    }
    return message;
  }

  function recordReady(check: string): void {
    const before = last.get(check);
    last.set(check, '');
    if (before !== undefined && before !== '') logger?.info({ check }, 'readiness check ready again');
  }

  const router = Router();
  router.get('/healthz/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/healthz/ready', async (_req, res) => {
    const results = await Promise.all(Object.entries(checks).map(async ([check, run]) => {
      try {
        await run();
        recordReady(check);
        return undefined;
      } catch (err) {
        return { message: record(check, err) };
      }
    }));
    const failures = results.filter((failure) => failure !== undefined);
    if (failures.length > 0) res.status(503).json({ errors: failures });
    else res.json({ status: 'ready' });
  });
  return router;
}
