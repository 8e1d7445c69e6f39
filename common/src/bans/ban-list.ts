import { EntryTable } from './entry-table.js';
import type { Logger } from 'pino';

/** What `requireAuth` asks of a ban list. */
export interface BanChecker {
  /** True when this user is banned and the token was issued (ms since epoch) at or before the ban. */
  isBanned(userId: string, tokenIssuedAtMs: number): boolean;
  /**
   * True when the user's sessions were revoked (signed out everywhere, a password change, a stolen
   * refresh token) and the token was issued at or before that.
   */
  isRevoked(userId: string, tokenIssuedAtMs: number): boolean;
}

export interface BanListOptions {
  /** Most entries held (`BAN_CACHE_MAX`). */
  max: number;
  /**
   * How long after a ban a token from before it can still be presented: `ACCESS_TOKEN_TTL +
   * CLOCK_SKEW`, in milliseconds. Each entry lives until `bannedAt + windowMs`.
   */
  windowMs: number;
  logger: Logger;
  /** Called when an entry is pushed out for capacity before its time: a security event. */
  onEarlyEviction?: (userId: string) => void;
  /** The clock, in milliseconds since the epoch; tests freeze it. */
  now?: () => number;
}

/** What applying an event did: `stale` means it changed nothing. */
export type BanApplyResult = 'applied' | 'stale' | 'expired';

/**
 * The in-memory list of recently banned users, and of users whose sessions were revoked, that
 * `requireAuth` checks: bounded in size (`max`) and time (each entry expires when every token
 * issued before its ban or revocation has).
 *
 * A request is refused when its user has an entry and its token was issued at or before the
 * entry's `bannedAt`. Applying events can only make that stricter, whatever order they arrive in
 * and whatever versions they carry: a ban moves `bannedAt` to the latest ban seen (and the expiry
 * with it), never back; an unban changes neither, since tokens from before the ban must stay
 * refused and tokens from after the unban pass anyway. Versions only decide `isActive`, for views.
 * A revocation of the user's sessions works the same way with its `notBefore` (the latest one
 * counts; nothing undoes it), and is answered 401 rather than 403. Revocations are held apart from
 * bans, each in a list of `max` entries: any user can end their own sessions as often as they
 * sign in, and none of that may push a ban out. User ids are compared in their canonical
 * lower-case form. When a list is full, expired entries make room first, then the entry set
 * longest ago: an early eviction, logged and counted, after which no ban is lost all the same:
 * every token issued at or before the evicted entry's time counts as revoked (401, so clients
 * refresh, and auth refuses a banned user's refresh) for every user until that entry would have
 * expired. Each list is an `EntryTable`: about 70 bytes per entry, the user id's string not counted.
 *
 * @example
 * const bans = new BanList({ max: 100_000, windowMs: ttlMs + skewMs, logger });
 * bans.ban({ userId, bannedAt: new Date(), version: 1 });
 * bans.isBanned(userId, tokenIatMs); // true for tokens issued at or before the ban
 */
export class BanList implements BanChecker {
  readonly #bans: EntryTable;
  readonly #revocations: EntryTable;
  readonly #windowMs: number;
  readonly #now: () => number;
  /**
   * After an early eviction, tokens issued at or before `#floorMs` are refused for every user
   * until `#floorUntilMs`, when the evicted entry would have expired: the list cannot tell whose
   * ban it lost, so it refuses all tokens that old rather than let that user in.
   */
  #floorMs = Number.NEGATIVE_INFINITY;
  #floorUntilMs = Number.NEGATIVE_INFINITY;

  constructor(options: BanListOptions) {
    if (!Number.isSafeInteger(options.max) || options.max < 1) throw new TypeError('BanList: max must be a positive integer');
    if (!Number.isFinite(options.windowMs) || options.windowMs < 1) throw new TypeError('BanList: windowMs must be positive');
    const { logger, onEarlyEviction } = options;
    this.#windowMs = options.windowMs;
    const now = options.now ?? Date.now;
    this.#now = now;
    const table = (what: string, field: 'bannedAt' | 'notBefore') => new EntryTable({
      max: options.max,
      now,
      onEarlyEviction: (userId, entry) => {
        // The list no longer knows this user, so it stops trusting every token as old as the entry.
        this.#floorMs = Math.max(this.#floorMs, entry.atMs);
        this.#floorUntilMs = Math.max(this.#floorUntilMs, entry.expiresAtMs);
        logger.error({
          audit: `${what}_list.early_eviction`, userId, [field]: new Date(entry.atMs).toISOString(), max: options.max,
          refusedUpTo: new Date(this.#floorMs).toISOString(), refusedUntil: new Date(this.#floorUntilMs).toISOString(),
        }, `ban list full: a live ${what} entry was evicted before its expiry; every token issued up to refusedUpTo is refused (401) until refusedUntil (raise BAN_CACHE_MAX)`);
        onEarlyEviction?.(userId);
      },
    });
    this.#bans = table('ban', 'bannedAt');
    this.#revocations = table('revocation', 'notBefore');
  }

  /** Live entries held, bans and revocations (expired ones are cleared first). */
  get size(): number {
    this.#bans.purgeExpired();
    this.#revocations.purgeExpired();
    return this.#bans.size + this.#revocations.size;
  }

  /**
   * Records a ban: the entry's `bannedAt` becomes the later of the one held and this one, and it
   * lives until `windowFrom + windowMs` (`windowFrom` defaults to `bannedAt`; ban sync passes an
   * earlier one to bound how long a date from the future keeps an entry), or longer if it already
   * did. `expired` when every token this ban concerns has expired.
   */
  ban(event: { userId: string; bannedAt: Date; version: number; windowFrom?: Date }): BanApplyResult {
    const userId = event.userId.toLowerCase();
    const bannedAtMs = event.bannedAt.getTime();
    const expiresAtMs = this.#expiryOf(bannedAtMs, event.windowFrom);
    if (!(expiresAtMs > this.#now())) return 'expired';
    const held = this.#bans.get(userId);
    if (held === undefined) {
      this.#bans.set(userId, { atMs: bannedAtMs, expiresAtMs, version: event.version, active: true });
      return 'applied';
    }
    const stricter = bannedAtMs > held.atMs || expiresAtMs > held.expiresAtMs;
    const newer = event.version > held.version;
    if (!stricter && !newer) return 'stale';
    this.#bans.set(userId, {
      atMs: Math.max(bannedAtMs, held.atMs),
      expiresAtMs: Math.max(expiresAtMs, held.expiresAtMs),
      version: Math.max(event.version, held.version),
      active: newer ? true : held.active,
    });
    return 'applied';
  }

  /**
   * Records that every session of the user ended at `notBefore`: tokens issued at or before it are
   * refused (`isRevoked`). Like a ban, the entry keeps the latest `notBefore` seen and lives until
   * `windowFrom + windowMs` (`windowFrom` defaults to `notBefore`), or longer if it already did.
   * Versions play no part: nothing lifts a revocation.
   */
  revokeSessions(event: { userId: string; notBefore: Date; windowFrom?: Date }): BanApplyResult {
    const userId = event.userId.toLowerCase();
    const notBeforeMs = event.notBefore.getTime();
    const expiresAtMs = this.#expiryOf(notBeforeMs, event.windowFrom);
    if (!(expiresAtMs > this.#now())) return 'expired';
    const held = this.#revocations.get(userId);
    if (held !== undefined && !(notBeforeMs > held.atMs || expiresAtMs > held.expiresAtMs)) return 'stale';
    this.#revocations.set(userId, {
      atMs: Math.max(notBeforeMs, held?.atMs ?? notBeforeMs),
      expiresAtMs: Math.max(expiresAtMs, held?.expiresAtMs ?? expiresAtMs),
      version: 0,
      active: true,
    });
    return 'applied';
  }

  /**
   * Records that a newer unban was seen (for `isActive`). Who is refused does not change, and an
   * unban never makes an entry: one it made could push a live ban out of a full list.
   */
  unban(event: { userId: string; unbannedAt: Date; version: number }): BanApplyResult {
    const userId = event.userId.toLowerCase();
    const held = this.#bans.get(userId);
    if (held === undefined) {
      return event.unbannedAt.getTime() + this.#windowMs > this.#now() ? 'stale' : 'expired';
    }
    if (event.version <= held.version) return 'stale';
    this.#bans.set(userId, { ...held, version: event.version, active: false });
    return 'applied';
  }

  /** When an entry dated `atMs` may go: a window after it, or after `windowFrom` when that is earlier. */
  #expiryOf(atMs: number, windowFrom: Date | undefined): number {
    return Math.min(atMs, windowFrom?.getTime() ?? atMs) + this.#windowMs;
  }

  isBanned(userId: string, tokenIssuedAtMs: number): boolean {
    const bannedAtMs = this.#bans.atOf(userId.toLowerCase());
    return bannedAtMs !== undefined && tokenIssuedAtMs <= bannedAtMs;
  }

  isRevoked(userId: string, tokenIssuedAtMs: number): boolean {
    if (tokenIssuedAtMs <= this.#floorMs && this.#now() < this.#floorUntilMs) return true;
    const notBeforeMs = this.#revocations.atOf(userId.toLowerCase());
    return notBeforeMs !== undefined && tokenIssuedAtMs <= notBeforeMs;
  }

  /** True while the user's latest known event is a ban (for admin views and tests). */
  isActive(userId: string): boolean {
    return this.#bans.get(userId.toLowerCase())?.active === true;
  }
}
