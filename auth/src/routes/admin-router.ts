import { Router } from 'express';
import { z } from 'zod';
import type { BanChecker } from '@ticketing/common/bans';
import { Subjects } from '@ticketing/common/events';
import { ForbiddenError, HttpError, NotFoundError, requireAuth, requireRole, signedInUser, UserBannedError, uuidParam, validateRequest } from '@ticketing/common/http';
import type { Database, Logger } from '@ticketing/common/runtime';
import { enqueueEvent, newEventId } from '../outbox.js';
import { revokeRefreshFamilies } from '../sessions.js';
import { audit } from './audit.js';
import { findUserById, isSessionRevoked, listUsers, setBan, toAdminView } from '../users.js';

/**
 * Half of a UTF-16 surrogate pair standing alone (what `String.prototype.isWellFormed`, ES2024 and
 * beyond this project's ES2022 lib, refuses): with the u flag a whole pair reads as one code point.
 */
const LONE_SURROGATE = /\p{Cs}/u;

// Canonical (lower-case) from here on: the self-ban check and the event compare ids as strings.
const userParams = z.object({ id: uuidParam('User id must be a UUID') });
const banBody = z.object({
  reason: z
    .string({ error: 'A reason is required' })
    .trim()
    .min(1, { error: 'A reason is required' })
    .max(500, { error: 'The reason must be at most 500 characters' })
    // Control characters (NUL, ESC, ...) have no place in one line of text, and would reach logs and terminals.
    .refine((reason) => !/\p{Cc}/u.test(reason), { error: 'The reason must not contain control characters' })
    // The outbox stores the event as jsonb, which refuses the "\ud800" JSON.stringify writes for a
    // lone surrogate: the ban would fail with a 500 after the admin's request was accepted.
    .refine((reason) => !LONE_SURROGATE.test(reason), { error: 'The reason must be well-formed Unicode text' }),
});
const listQuery = z.object({
  banned: z.enum(['true', 'false'], { error: 'banned must be true or false' }).optional().transform((value) => (value === undefined ? undefined : value === 'true')),
  limit: z.coerce.number({ error: 'limit must be a number' }).int().min(1).max(500).default(100),
  offset: z.coerce.number({ error: 'offset must be a number' }).int().min(0).default(0),
  // Part of an email, or a whole id, in one canonical form: emails are stored lowercased, and an
  // id typed in upper case names the same user.
  q: z.string({ error: 'q must be one text value' })
    .transform((text) => text.trim().toLowerCase())
    .pipe(z.string().max(254, { error: 'q must be at most 254 characters' }).refine((text) => !/\p{Cc}/u.test(text), { error: 'q must not contain control characters' }))
    .optional()
    .transform((text) => (text === '' ? undefined : text)),
});

export interface AdminRouterDeps {
  db: Database;
  bans: BanChecker;
  logger: Logger;
  /** Called after a ban or unban commits, to publish its event without waiting for it. */
  onEventCommitted: () => void;
}

/**
 * `/api/admin/users...`: list, ban and unban users. Admins only. A ban or unban, its version bump
 * and its event commit in one transaction; the event is published after the commit by the relay.
 */
export function adminRouter(deps: AdminRouterDeps): Router {
  const { db } = deps;
  const router = Router();
  router.use('/api/admin', requireAuth({ bans: deps.bans }), requireRole('admin'), async (req, res, next) => {
    // Auth owns the users, so it need not wait for its own ban event: the caller must be an
    // unbanned admin in the database too, or a just-banned admin could unban themself.
    const caller = await findUserById(db, signedInUser(req).id);
    const refuse = (why: string) => audit(res, deps.logger, 'admin.refused', { userId: signedInUser(req).id, why }, 'an admin route was refused to its caller');
    if (caller !== null && isSessionRevoked(caller, signedInUser(req).iat)) {
      refuse('signed out everywhere since the token');
      throw new HttpError('SESSION_REVOKED');
    }
    if (caller === null || caller.role !== 'admin') {
      refuse(caller === null ? 'no such user' : 'no longer an admin');
      throw new ForbiddenError();
    }
    if (caller.bannedAt !== null) {
      refuse('banned');
      req.session = null;
      throw new UserBannedError();
    }
    next();
  });

  router.get('/api/admin/users', validateRequest({ query: listQuery }), async (req, res) => {
    const users = await listUsers(db, req.query);
    audit(res, deps.logger, 'admin.users_listed', { actorId: signedInUser(req).id, ...req.query, count: users.length }, 'admin listed users');
    res.json(users.map(toAdminView));
  });

  router.post('/api/admin/users/:id/ban', validateRequest({ params: userParams, body: banBody }), async (req, res) => {
    const { id } = req.params;
    const { reason } = req.body;
    if (id === signedInUser(req).id) throw new ForbiddenError('Admins cannot ban themselves');
    const eventId = newEventId();
    const { user, changed } = await db.transaction(async (tx) => {
      const current = await findUserById(tx, id, { lock: 'update' });
      if (current === null) throw new NotFoundError('User not found');
      if (current.bannedAt !== null) return { user: current, changed: false };
      // Dated by the database's clock under the row lock, as signin dates its tokens: a token
      // signed before this lock was taken has an iat at or before bannedAt, whichever replica signed it.
      const { user: banned, at: bannedAt } = await setBan(tx, id, { reason });
      // No new access token from a refresh either: signin and refresh read the ban anyway, and a
      // session ended here stays ended after an unban.
      await revokeRefreshFamilies(tx, id, 'banned');
      await enqueueEvent(tx, {
        subject: Subjects.UserBanned,
        // The id as the database holds it, never as the request spelled it.
        payload: { id: eventId, userId: banned.id, bannedAt: bannedAt.toISOString(), reason, version: banned.banVersion },
      });
      return { user: banned, changed: true };
    });
    const actorId = signedInUser(req).id;
    if (changed) {
      deps.onEventCommitted();
      audit(res, deps.logger, 'user.banned', { actorId, userId: user.id, reason, eventId, bannedAt: user.bannedAt }, 'admin banned a user');
    } else {
      audit(res, deps.logger, 'user.ban_unchanged', { actorId, userId: user.id, reason }, 'admin banned a user who was banned already; nothing changed');
    }
    res.json(toAdminView(user));
  });

  router.post('/api/admin/users/:id/unban', validateRequest({ params: userParams }), async (req, res) => {
    const { id } = req.params;
    if (id === signedInUser(req).id) throw new ForbiddenError('Admins cannot unban themselves');
    const eventId = newEventId();
    const { user, changed } = await db.transaction(async (tx) => {
      const current = await findUserById(tx, id, { lock: 'update' });
      if (current === null) throw new NotFoundError('User not found');
      if (current.bannedAt === null) return { user: current, changed: false };
      const { user: unbanned, at: unbannedAt } = await setBan(tx, id, null);
      await enqueueEvent(tx, {
        subject: Subjects.UserUnbanned,
        payload: { id: eventId, userId: unbanned.id, unbannedAt: unbannedAt.toISOString(), version: unbanned.banVersion },
      });
      return { user: unbanned, changed: true };
    });
    const actorId = signedInUser(req).id;
    if (changed) {
      deps.onEventCommitted();
      audit(res, deps.logger, 'user.unbanned', { actorId, userId: user.id, eventId }, 'admin unbanned a user');
    } else {
      audit(res, deps.logger, 'user.unban_unchanged', { actorId, userId: user.id }, 'admin unbanned a user who was not banned; nothing changed');
    }
    res.json(toAdminView(user));
  });

  return router;
}
