import { LRUCache } from 'lru-cache';
import type { Logger } from './logger.js';
import type { BanChecker } from './require-auth.js';

interface BanEntry {
  /** The latest `bannedAt` of any ban seen for this user: the list only ever gets stricter. */
  bannedAtMs: number;
  /** The highest version seen; it decides `isActive`, never who is refused. */
  version: number;
  /** What the highest-versioned event said: banned (true) or unbanned (false). For views only. */
  active: boolean;
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
 * The in-memory list of recently banned users that `requireAuth` checks: bounded in size
 * (`max`) and time (each entry expires when every token issued before its ban has).
 *
 * A request is refused when its user has an entry and its token was issued at or before the
 * entry's `bannedAt`. Applying events can only make that stricter, whatever order they arrive in
 * and whatever versions they carry: a ban moves `bannedAt` to the latest ban seen (and the expiry
 * with it), never back; an unban changes neither, since tokens from before the ban must stay
 * refused and tokens from after the unban pass anyway. Versions only decide `isActive`, for views.
 * User ids are compared in their canonical lower-case form.
 *
 * @example
 * const bans = new BanList({ max: 100_000, windowMs: ttlMs + skewMs, logger });
 * bans.ban({ userId, bannedAt: new Date(), version: 1 });
 * bans.isBanned(userId, tokenIatMs); // true for tokens issued at or before the ban
 */
export class BanList implements BanChecker {
  readonly #cache: LRUCache<string, BanEntry>;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: BanListOptions) {
    if (!Number.isSafeInteger(options.max) || options.max < 1) throw new TypeError('BanList: max must be a positive integer');
    if (!Number.isFinite(options.windowMs) || options.windowMs < 1) throw new TypeError('BanList: windowMs must be positive');
    const { logger, onEarlyEviction } = options;
    this.#windowMs = options.windowMs;
    const now = options.now ?? Date.now;
    this.#now = now;
    this.#cache = new LRUCache<string, BanEntry>({
      max: options.max,
      ttlAutopurge: false,
      perf: { now },
      ttlResolution: options.now ? 0 : 1,
      dispose: (entry, userId, reason) => {
        if (reason !== 'evict') return;
        const expiresAtMs = entry.bannedAtMs + this.#windowMs;
        if (expiresAtMs <= now()) return;
        // Tokens issued before this ban are still valid and will now be let through.
        logger.error({ userId, bannedAt: new Date(entry.bannedAtMs).toISOString(), max: options.max },
          'ban list full: a live ban entry was evicted before its expiry (raise BAN_CACHE_MAX)');
        onEarlyEviction?.(userId);
      },
    });
  }

  /** Entries held (live ones, and expired ones not yet purged). */
  get size(): number {
    return this.#cache.size;
  }

  /**
   * Records a ban: the entry's `bannedAt` becomes the later of the one held and this one, and it
   * lives until `bannedAt + windowMs`. `expired` when every token this ban concerns has expired.
   */
  ban(event: { userId: string; bannedAt: Date; version: number }): BanApplyResult {
    const userId = event.userId.toLowerCase();
    const bannedAtMs = event.bannedAt.getTime();
    const ttl = bannedAtMs + this.#windowMs - this.#now();
    if (!(ttl > 0)) return 'expired';
    const held = this.#cache.get(userId);
    if (held === undefined) {
      this.#cache.set(userId, { bannedAtMs, version: event.version, active: true }, { ttl });
      return 'applied';
    }
    const stricter = bannedAtMs > held.bannedAtMs;
    const newer = event.version > held.version;
    if (!stricter && !newer) return 'stale';
    const entry: BanEntry = {
      bannedAtMs: Math.max(bannedAtMs, held.bannedAtMs),
      version: Math.max(event.version, held.version),
      active: newer ? true : held.active,
    };
    this.#cache.set(userId, entry, stricter ? { ttl } : { noUpdateTTL: true });
    return 'applied';
  }

  /**
   * Records that a newer unban was seen (for `isActive`). Who is refused does not change, and an
   * unban never makes an entry: one it made could push a live ban out of a full list.
   */
  unban(event: { userId: string; unbannedAt: Date; version: number }): BanApplyResult {
    const userId = event.userId.toLowerCase();
    const held = this.#cache.get(userId);
    if (held === undefined) {
      return event.unbannedAt.getTime() + this.#windowMs > this.#now() ? 'stale' : 'expired';
    }
    if (event.version <= held.version) return 'stale';
    this.#cache.set(userId, { ...held, version: event.version, active: false }, { noUpdateTTL: true });
    return 'applied';
  }

  isBanned(userId: string, tokenIssuedAtMs: number): boolean {
    const entry = this.#cache.get(userId.toLowerCase());
    return entry !== undefined && tokenIssuedAtMs <= entry.bannedAtMs;
  }

  /** True while the user's latest known event is a ban (for admin views and tests). */
  isActive(userId: string): boolean {
    return this.#cache.get(userId.toLowerCase())?.active === true;
  }
}
