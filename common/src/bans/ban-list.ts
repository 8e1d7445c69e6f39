import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';

interface BanEntry {
  /** The latest `bannedAt` of any ban seen for this user: the list only ever gets stricter. */
  bannedAtMs: number;
  /** When the entry may go: the latest expiry of any ban seen for this user. */
  expiresAtMs: number;
  /** The highest version seen; it decides `isActive`, never who is refused. */
  version: number;
  /** What the highest-versioned event said: banned (true) or unbanned (false). For views only. */
  active: boolean;
}

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

interface RevocationEntry {
  /** The latest `notBefore` of any revocation of the user's sessions seen. */
  notBeforeMs: number;
  /** When the entry may go: the latest expiry of any revocation seen for this user. */
  expiresAtMs: number;
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
 * lower-case form.
 *
 * @example
 * const bans = new BanList({ max: 100_000, windowMs: ttlMs + skewMs, logger });
 * bans.ban({ userId, bannedAt: new Date(), version: 1 });
 * bans.isBanned(userId, tokenIatMs); // true for tokens issued at or before the ban
 */
export class BanList implements BanChecker {
  readonly #bans: LRUCache<string, BanEntry>;
  readonly #revocations: LRUCache<string, RevocationEntry>;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: BanListOptions) {
    if (!Number.isSafeInteger(options.max) || options.max < 1) throw new TypeError('BanList: max must be a positive integer');
    if (!Number.isFinite(options.windowMs) || options.windowMs < 1) throw new TypeError('BanList: windowMs must be positive');
    const { logger, onEarlyEviction } = options;
    this.#windowMs = options.windowMs;
    const now = options.now ?? Date.now;
    this.#now = now;
    const cache = <E extends { expiresAtMs: number }>(what: string, fields: (entry: E) => Record<string, string>) => new LRUCache<string, E>({
      max: options.max,
      ttlAutopurge: false,
      perf: { now },
      ttlResolution: options.now ? 0 : 1,
      dispose: (entry, userId, reason) => {
        if (reason !== 'evict') return;
        if (entry.expiresAtMs <= now()) return;
        // Tokens issued before this ban (or revocation) are still valid and will now be let through.
        logger.error({ audit: `${what}_list.early_eviction`, userId, ...fields(entry), max: options.max }, `ban list full: a live ${what} entry was evicted before its expiry (raise BAN_CACHE_MAX)`);
        onEarlyEviction?.(userId);
      },
    });
    this.#bans = cache<BanEntry>('ban', (entry) => ({ bannedAt: new Date(entry.bannedAtMs).toISOString() }));
    this.#revocations = cache<RevocationEntry>('revocation', (entry) => ({ notBefore: new Date(entry.notBeforeMs).toISOString() }));
  }

  /** Live entries held, bans and revocations (expired ones are cleared first). */
  get size(): number {
    this.#bans.purgeStale();
    this.#revocations.purgeStale();
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
    const nowMs = this.#now();
    if (!(expiresAtMs > nowMs)) return 'expired';
    const held = this.#bans.peek(userId);
    if (held === undefined) {
      setEntry(this.#bans, userId, { bannedAtMs, expiresAtMs, version: event.version, active: true }, nowMs);
      return 'applied';
    }
    const stricter = bannedAtMs > held.bannedAtMs || expiresAtMs > held.expiresAtMs;
    const newer = event.version > held.version;
    if (!stricter && !newer) return 'stale';
    setEntry(this.#bans, userId, {
      bannedAtMs: Math.max(bannedAtMs, held.bannedAtMs),
      expiresAtMs: Math.max(expiresAtMs, held.expiresAtMs),
      version: Math.max(event.version, held.version),
      active: newer ? true : held.active,
    }, nowMs);
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
    const nowMs = this.#now();
    if (!(expiresAtMs > nowMs)) return 'expired';
    const held = this.#revocations.peek(userId);
    if (held === undefined) {
      setEntry(this.#revocations, userId, { notBeforeMs, expiresAtMs }, nowMs);
      return 'applied';
    }
    if (!(notBeforeMs > held.notBeforeMs || expiresAtMs > held.expiresAtMs)) return 'stale';
    setEntry(this.#revocations, userId, {
      notBeforeMs: Math.max(notBeforeMs, held.notBeforeMs),
      expiresAtMs: Math.max(expiresAtMs, held.expiresAtMs),
    }, nowMs);
    return 'applied';
  }

  /**
   * Records that a newer unban was seen (for `isActive`). Who is refused does not change, and an
   * unban never makes an entry: one it made could push a live ban out of a full list.
   */
  unban(event: { userId: string; unbannedAt: Date; version: number }): BanApplyResult {
    const userId = event.userId.toLowerCase();
    const held = this.#bans.peek(userId);
    if (held === undefined) {
      return event.unbannedAt.getTime() + this.#windowMs > this.#now() ? 'stale' : 'expired';
    }
    if (event.version <= held.version) return 'stale';
    setEntry(this.#bans, userId, { ...held, version: event.version, active: false }, this.#now());
    return 'applied';
  }

  /** When an entry dated `atMs` may go: a window after it, or after `windowFrom` when that is earlier. */
  #expiryOf(atMs: number, windowFrom: Date | undefined): number {
    return Math.min(atMs, windowFrom?.getTime() ?? atMs) + this.#windowMs;
  }

  isBanned(userId: string, tokenIssuedAtMs: number): boolean {
    const entry = this.#bans.peek(userId.toLowerCase());
    return entry !== undefined && tokenIssuedAtMs <= entry.bannedAtMs;
  }

  isRevoked(userId: string, tokenIssuedAtMs: number): boolean {
    const entry = this.#revocations.peek(userId.toLowerCase());
    return entry !== undefined && tokenIssuedAtMs <= entry.notBeforeMs;
  }

  /** True while the user's latest known event is a ban (for admin views and tests). */
  isActive(userId: string): boolean {
    return this.#bans.peek(userId.toLowerCase())?.active === true;
  }
}

/**
 * Sets an entry until its expiry. Reads do not touch recency, so the least recently used entry is
 * the one set longest ago, the first to expire; expired ones are cleared before a live one could
 * be pushed out.
 */
function setEntry<E extends { expiresAtMs: number }>(cache: LRUCache<string, E>, userId: string, entry: E, nowMs: number): void {
  if (cache.size >= cache.max && !cache.has(userId)) cache.purgeStale();
  cache.set(userId, entry, { ttl: entry.expiresAtMs - nowMs });
}
