import type { RequestHandler } from 'express';
import { ForbiddenError, NotAuthenticatedError } from './errors.js';
import { noteRouteScope } from './metrics.js';
import { ROLES, type Role } from '../tokens/user-payload.js';

/**
 * Lets a request through only when its user has this role: 401 when signed out, 403 otherwise.
 * Mount after `requireAuth`, which also checks bans.
 *
 * @example
 * router.post('/api/admin/users/:id/ban', requireAuth({ bans }), requireRole('admin'), ban);
 */
export function requireRole(role: Role): RequestHandler {
  if (!(ROLES as readonly string[]).includes(role)) throw new TypeError(`requireRole: unknown role ${String(role)}`);
  return function requireUserRole(req, res, next) {
    noteRouteScope(req, res);
    if (req.currentUser === undefined) throw new NotAuthenticatedError();
    if (req.currentUser.role !== role) throw new ForbiddenError();
    next();
  };
}
