import type { RequestHandler } from 'express';
import { ForbiddenError, NotAuthenticatedError } from './errors.js';
import { noteRouteScope } from './metrics.js';
import { requestLogger } from './request-log.js';
import { ROLES, type Role } from '../tokens/user-payload.js';

/**
 * Lets a request through only when its user has this role: 401 when signed out, 403 otherwise
 * (an audit line on the request's logger).
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
    if (req.currentUser.role !== role) {
      requestLogger(res)?.info({ audit: 'role.refused', userId: req.currentUser.id, role: req.currentUser.role, needed: role }, `a ${req.currentUser.role} was refused a route for ${role}s`);
      throw new ForbiddenError();
    }
    next();
  };
}
