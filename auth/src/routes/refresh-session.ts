import type { Database, Logger } from '@ticketing/common/runtime';
import type { TokenSigner } from '@ticketing/common/tokens';
import {
  isRefreshTokenShaped, refreshTokenOwner, revokeAccessTokens, rotateRefreshToken, type IssuedRefreshToken, type SessionSettings,
} from '../sessions.js';
import { findUserById, type UserRecord } from '../users.js';
import { signAccessToken } from './session-delivery.js';

export interface RefreshDeps {
  db: Database;
  signer: TokenSigner;
  sessions: SessionSettings;
  logger: Logger;
  /** Called after a transaction queued an event, to publish it without waiting. */
  onEventCommitted: () => void;
}

/** What presenting a refresh token came to, for the route to answer. */
export type RefreshOutcome =
  /** A fresh access token and a fresh refresh token. */
  | { kind: 'refreshed'; user: UserRecord; jwt: string; refresh: IssuedRefreshToken }
  | { kind: 'banned' }
  /** Unknown, malformed, expired, revoked, or reused (whose session, and every access token of the user, were just ended). */
  | { kind: 'invalid' };

/**
 * Presents a refresh token: rotates it and signs a new access token, all under the user's row
 * lock (the lock a ban and a revocation take, so neither can slip between the check and the
 * token). A token presented again after the one that replaced it was used is taken as stolen: its
 * family is revoked, and so is every access token of the user (`auth.user.sessions-revoked`), since
 * the thief may hold one of that family; the user's other sessions refresh and go on. So is a
 * spent token of a session that was signed out, which is how a thief would hide the theft.
 */
export async function refreshSession(deps: RefreshDeps, token: unknown): Promise<RefreshOutcome> {
  if (!isRefreshTokenShaped(token)) return { kind: 'invalid' };
  // The user's row is locked before the token's, the order a ban takes them in.
  const owner = await refreshTokenOwner(deps.db, token);
  if (owner === null) return { kind: 'invalid' };
  const outcome = await deps.db.transaction(async (tx): Promise<RefreshOutcome & { reused?: { eventId: string; familyId?: string } }> => {
    const user = await findUserById(tx, owner, { lock: 'update' });
    if (user === null) return { kind: 'invalid' };
    if (user.bannedAt !== null) return { kind: 'banned' };
    const rotation = await rotateRefreshToken(tx, user.id, token, deps.sessions);
    if (rotation.kind === 'rotated') return { kind: 'refreshed', user, jwt: await signAccessToken(tx, deps.signer, user), refresh: rotation.issued };
    if (rotation.kind === 'invalid' && !rotation.reused) return { kind: 'invalid' };
    // The family is revoked already; the user's other sessions were not shown to anyone.
    const { eventId } = await revokeAccessTokens(tx, user.id);
    return { kind: 'invalid', reused: { eventId, ...(rotation.kind === 'reused' ? { familyId: rotation.familyId } : {}) } };
  });
  if (outcome.reused !== undefined) reportTheft(deps, { userId: owner, ...outcome.reused }, 'refresh token presented again after its replacement was used');
  const { reused: _reused, ...answer } = outcome;
  return answer;
}

/**
 * After a transaction revoked a stolen session and the user's access tokens: logs the suspected
 * theft (`what` says how it showed) and publishes the revocation without waiting.
 */
export function reportTheft(
  deps: Pick<RefreshDeps, 'logger' | 'onEventCommitted'>, session: { userId: string; eventId: string; familyId?: string }, what: string,
): void {
  deps.logger.warn({ audit: 'session.theft_suspected', ...session }, `${what}: suspected theft; that session and every access token of the user are revoked`);
  deps.onEventCommitted();
}
