import type { Response } from 'express';
import { requestLogger } from '@ticketing/common/http';
import type { Logger } from '@ticketing/common/runtime';

/**
 * One audit line: who did what to whom, on the request's logger (so it carries the request id),
 * with `audit` naming the event (`user.banned`, `signin.failed`, ...). Never a password or token.
 *
 * @example
 * audit(res, logger, 'user.banned', { actorId, userId, reason, eventId }, 'admin banned a user');
 */
export function audit(res: Response, fallback: Logger, event: string, fields: Record<string, unknown>, message: string, level: 'info' | 'warn' = 'info'): void {
  (requestLogger(res) ?? fallback)[level]({ audit: event, ...fields }, message);
}
