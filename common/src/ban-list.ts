import { LRUCache } from 'lru-cache';
import type { Logger } from './logger.js';
import type { BanChecker } from './require-auth.js';

interface BanEntry {
  bannedAtMs: number;
  version: number;
  /** False once an unban newer than the ban arrived; tokens from before the ban stay refused. */
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

/** What applying an event did. */
export type BanApplyResult = 'applied' | 'stale' | 'expired';

/**
 * The in-memory list of recently banned users that `requireAuth` checks: bounded in size
 * (`max`) and time (each entry expires when every token issued before its ban has), versioned so
 * an older event never undoes a newer one.
 *
 * A request is refused when its user has an entry and its token was issued at or before the ban.
 * An unban keeps the entry (tokens from before the ban stay refused) but lets tokens issued after
 * it through, which they would be anyway: the rule only ever looks at `bannedAt`.
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

  /** Records a ban unless a newer event for this user is held, or every token it concerns has expired. */
  ban(event: { userId: string; bannedAt: Date; version: number }): BanApplyResult {
    const held = this.#cache.get(event.userId);
    if (held !== undefined && held.version >= event.version) return 'stale';
    const bannedAtMs = event.bannedAt.getTime();
    const ttl = bannedAtMs + this.#windowMs - this.#now();
    if (ttl <= 0) return 'expired';
    this.#cache.set(event.userId, { bannedAtMs, version: event.version, active: true }, { ttl });
    return 'applied';
  }

  /**
   * Marks the user unbanned unless a newer event is held. With no entry it leaves a tombstone (no
   * token refused) until `unbannedAt + windowMs`, so that an older ban arriving late stays stale.
   */
  unban(event: { userId: string; unbannedAt: Date; version: number }): BanApplyResult {
    const held = this.#cache.get(event.userId);
    if (held !== undefined && held.version >= event.version) return 'stale';
    if (held !== undefined) {
      // Keep the remaining TTL: tokens issued before the ban stay refused until they expire.
      this.#cache.set(event.userId, { ...held, version: event.version, active: false }, { noUpdateTTL: true });
      return 'applied';
    }
    const ttl = event.unbannedAt.getTime() + this.#windowMs - this.#now();
    if (ttl <= 0) return 'expired';
    this.#cache.set(event.userId, { bannedAtMs: Number.NEGATIVE_INFINITY, version: event.version, active: false }, { ttl });
    return 'applied';
  }

  isBanned(userId: string, tokenIssuedAtMs: number): boolean {
    const entry = this.#cache.get(userId);
    return entry !== undefined && tokenIssuedAtMs <= entry.bannedAtMs;
  }

  /** True while the user's latest known event is a ban (for admin views and tests). */
  isActive(userId: string): boolean {
    return this.#cache.get(userId)?.active === true;
  }
}
