import { describe, it, expect, vi } from 'vitest';
import { BanList, type BanListOptions } from '@ticketing/common';
import { capturingLogger, silentLogger } from '@ticketing/testing';

/** A fixed instant (2030-01-01T00:00:00Z) so that no test depends on the real clock. */
const T0 = Date.UTC(2030, 0, 1);
/** ACCESS_TOKEN_TTL (15m) + CLOCK_SKEW (30s). */
const WINDOW_MS = 15 * 60_000 + 30_000;

/** A ban list whose clock stands still until the test moves it. */
function frozenBanList(options: Partial<BanListOptions> = {}) {
  const clock = { nowMs: T0 };
  const bans = new BanList({ max: 100, windowMs: WINDOW_MS, logger: silentLogger(), now: () => clock.nowMs, ...options });
  return { bans, clock };
}

describe('BanList: who is refused', () => {
  it('refuses a token issued before or at bannedAt and lets one issued after it through', () => {
    const { bans } = frozenBanList();
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 })).toBe('applied');
    expect(bans.isBanned('user-1', T0 - 60_000)).toBe(true);
    expect(bans.isBanned('user-1', T0)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 1)).toBe(false);
    expect(bans.isActive('user-1')).toBe(true);
  });

  it('compares in milliseconds, as requireAuth asks (iat seconds * 1000)', () => {
    const { bans } = frozenBanList();
    // Banned half-way through a second: a token whose iat is that second was issued before the ban.
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 500), version: 1 });
    const iatSeconds = T0 / 1000;
    expect(bans.isBanned('user-1', iatSeconds * 1000)).toBe(true);
    expect(bans.isBanned('user-1', (iatSeconds + 1) * 1000)).toBe(false);
    // The seconds themselves are not milliseconds: the list must not treat them as such.
    expect(bans.isBanned('user-1', T0 + 501)).toBe(false);
  });

  it('leaves other users alone', () => {
    const { bans } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    expect(bans.isBanned('user-2', T0 - 60_000)).toBe(false);
    expect(bans.isActive('user-2')).toBe(false);
    expect(bans.size).toBe(1);
  });
});

describe('BanList: versions', () => {
  it('answers stale to an exact duplicate, and keeps the later bannedAt of two with one version', () => {
    const { bans } = frozenBanList();
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 })).toBe('applied');
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 })).toBe('stale');
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 5_000), version: 1 })).toBe('applied');
    expect(bans.isBanned('user-1', T0 + 5_000)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 5_001)).toBe(false);
  });

  it('answers stale to an older ban after a newer one, without moving bannedAt back', () => {
    const { bans, clock } = frozenBanList();
    clock.nowMs = T0 + 10_000;
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 10_000), version: 3 })).toBe('applied');
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 })).toBe('stale');
    // Tokens issued between the two ban times stay refused.
    expect(bans.isBanned('user-1', T0 + 5_000)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 10_000)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 10_001)).toBe(false);
  });

  it('after a newer unban, keeps refusing tokens from before the ban and lets tokens from after the unban through', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    clock.nowMs = T0 + 60_000;
    expect(bans.unban({ userId: 'user-1', unbannedAt: new Date(T0 + 60_000), version: 2 })).toBe('applied');
    expect(bans.size).toBe(1);
    expect(bans.isActive('user-1')).toBe(false);
    expect(bans.isBanned('user-1', T0 - 1_000)).toBe(true);
    expect(bans.isBanned('user-1', T0)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 61_000)).toBe(false);
  });

  it('keeps the ban TTL across an unban: the entry still goes at bannedAt + windowMs', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    clock.nowMs = T0 + 60_000;
    bans.unban({ userId: 'user-1', unbannedAt: new Date(clock.nowMs), version: 2 });
    clock.nowMs = T0 + WINDOW_MS - 1;
    expect(bans.isBanned('user-1', T0 - 1_000)).toBe(true);
    clock.nowMs = T0 + WINDOW_MS + 1;
    expect(bans.isBanned('user-1', T0 - 1_000)).toBe(false);
    expect(bans.size).toBe(0);
  });

  it('answers stale to an older unban after a newer ban', () => {
    const { bans } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 3 });
    expect(bans.unban({ userId: 'user-1', unbannedAt: new Date(T0 - 1_000), version: 2 })).toBe('stale');
    expect(bans.isActive('user-1')).toBe(true);
    expect(bans.isBanned('user-1', T0)).toBe(true);
  });

  it('lets a newer ban after an unban move bannedAt forward', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    bans.unban({ userId: 'user-1', unbannedAt: new Date(T0 + 1_000), version: 2 });
    clock.nowMs = T0 + 2_000;
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 2_000), version: 3 })).toBe('applied');
    expect(bans.isActive('user-1')).toBe(true);
    expect(bans.isBanned('user-1', T0 + 1_500)).toBe(true);
  });

  it('applies a ban that arrives after its own unban: tokens from before the ban stay refused', () => {
    const { bans } = frozenBanList();
    expect(bans.unban({ userId: 'user-1', unbannedAt: new Date(T0), version: 2 })).toBe('stale');
    expect(bans.size).toBe(0);
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0 - 1_000), version: 1 })).toBe('applied');
    expect(bans.isBanned('user-1', T0 - 2_000)).toBe(true);
    // A token from after the unban was issued after the ban, so it passes.
    expect(bans.isBanned('user-1', T0 + 1_000)).toBe(false);
  });
});

describe('BanList: only ever stricter', () => {
  it('keeps the later bannedAt when a higher version carries an earlier date', () => {
    const { bans } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0 - 60_000), version: 2 })).toBe('applied');
    expect(bans.isBanned('user-1', T0)).toBe(true);
    expect(bans.isBanned('user-1', T0 - 30_000)).toBe(true);
  });

  it('lets a ban through after an unban with the largest version (a forged or broken version)', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    expect(bans.unban({ userId: 'user-1', unbannedAt: new Date(T0), version: Number.MAX_SAFE_INTEGER })).toBe('applied');
    expect(bans.isBanned('user-1', T0)).toBe(true);
    clock.nowMs = T0 + 10_000;
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 10_000), version: 2 })).toBe('applied');
    expect(bans.isBanned('user-1', T0 + 10_000)).toBe(true);
  });

  it('never shortens an entry on unban: it still lives to bannedAt + windowMs', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    bans.unban({ userId: 'user-1', unbannedAt: new Date(T0 - 3_600_000), version: 9 });
    clock.nowMs = T0 + WINDOW_MS - 1;
    expect(bans.isBanned('user-1', T0)).toBe(true);
  });

  it('moves the expiry forward with a later ban of a lower version', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 5 });
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 60_000), version: 4 });
    clock.nowMs = T0 + WINDOW_MS + 30_000;
    expect(bans.isBanned('user-1', T0 + 60_000)).toBe(true);
    // The view follows the highest version, which was a ban.
    expect(bans.isActive('user-1')).toBe(true);
  });

  it.each([
    ['ban, unban, ban', [['ban', 1, 0], ['unban', 2, 1_000], ['ban', 3, 2_000]]],
    ['the same, reversed', [['ban', 3, 2_000], ['unban', 2, 1_000], ['ban', 1, 0]]],
    ['unban first', [['unban', 2, 1_000], ['ban', 3, 2_000], ['ban', 1, 0]]],
    ['duplicates', [['ban', 1, 0], ['ban', 1, 0], ['unban', 2, 1_000], ['unban', 2, 1_000], ['ban', 3, 2_000], ['ban', 3, 2_000]]],
  ] as const)('refuses every token up to the latest ban whatever the order: %s', (_name, events) => {
    const { bans } = frozenBanList();
    for (const [kind, version, atMs] of events) {
      if (kind === 'ban') bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + atMs), version });
      else bans.unban({ userId: 'user-1', unbannedAt: new Date(T0 + atMs), version });
    }
    expect(bans.isBanned('user-1', T0 + 2_000)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 2_001)).toBe(false);
    expect(bans.isActive('user-1')).toBe(true);
  });

  it('compares user ids in their lower-case form', () => {
    const { bans } = frozenBanList();
    bans.ban({ userId: '3F2504E0-4F89-41D3-9A0C-0305E82C3301', bannedAt: new Date(T0), version: 1 });
    expect(bans.isBanned('3f2504e0-4f89-41d3-9a0c-0305e82c3301', T0)).toBe(true);
    expect(bans.isBanned('3F2504e0-4f89-41d3-9a0c-0305e82c3301', T0)).toBe(true);
  });
});

describe('BanList: time to live', () => {
  it('expires an entry at bannedAt + windowMs', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    clock.nowMs = T0 + WINDOW_MS - 1;
    expect(bans.isBanned('user-1', T0 - 1_000)).toBe(true);
    expect(bans.size).toBe(1);
    clock.nowMs = T0 + WINDOW_MS + 1;
    expect(bans.isBanned('user-1', T0 - 1_000)).toBe(false);
    expect(bans.isActive('user-1')).toBe(false);
    expect(bans.size).toBe(0);
  });

  it('counts the TTL from bannedAt, not from when the event arrived', () => {
    const { bans, clock } = frozenBanList();
    clock.nowMs = T0 + 60_000; // the event was replayed a minute late
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 })).toBe('applied');
    clock.nowMs = T0 + WINDOW_MS - 1;
    expect(bans.isBanned('user-1', T0)).toBe(true);
    clock.nowMs = T0 + WINDOW_MS + 1;
    expect(bans.isBanned('user-1', T0)).toBe(false);
  });

  it('answers expired to a ban whose window is already over, and holds nothing', () => {
    const { bans, clock } = frozenBanList();
    clock.nowMs = T0 + WINDOW_MS;
    expect(bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 })).toBe('expired');
    expect(bans.ban({ userId: 'user-2', bannedAt: new Date(T0 - 1), version: 1 })).toBe('expired');
    expect(bans.unban({ userId: 'user-3', unbannedAt: new Date(T0 - 1), version: 2 })).toBe('expired');
    expect(bans.unban({ userId: 'user-4', unbannedAt: new Date(T0 + 1), version: 2 })).toBe('stale');
    expect(bans.size).toBe(0);
    expect(bans.isBanned('user-1', T0 - 1_000)).toBe(false);
  });
});

describe('BanList: capacity', () => {
  it('logs an error and calls onEarlyEviction when a live entry is pushed out', () => {
    const { logger, lines } = capturingLogger();
    const onEarlyEviction = vi.fn();
    const { bans } = frozenBanList({ max: 2, logger, onEarlyEviction });
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    bans.ban({ userId: 'user-2', bannedAt: new Date(T0), version: 1 });
    bans.ban({ userId: 'user-3', bannedAt: new Date(T0), version: 1 });
    expect(bans.size).toBe(2);
    expect(onEarlyEviction).toHaveBeenCalledTimes(1);
    expect(onEarlyEviction).toHaveBeenCalledWith('user-1');
    const errors = lines().filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ userId: 'user-1', bannedAt: new Date(T0).toISOString(), max: 2 });
    expect(errors[0]).toMatchObject({ refusedUpTo: new Date(T0).toISOString(), refusedUntil: new Date(T0 + WINDOW_MS).toISOString() });
    expect(bans.isBanned('user-1', T0 - 1_000)).toBe(false);
    expect(bans.isBanned('user-3', T0 - 1_000)).toBe(true);
  });

  it('loses no ban to an early eviction: every token as old as the evicted entry is revoked, for everyone, until the entry would have expired', () => {
    const { bans, clock } = frozenBanList({ max: 2 });
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    bans.ban({ userId: 'user-2', bannedAt: new Date(T0 + 5_000), version: 1 });
    expect(bans.isRevoked('someone', T0)).toBe(false);
    bans.ban({ userId: 'user-3', bannedAt: new Date(T0 + 10_000), version: 1 });
    // user-1 is gone from the list, and still cannot use a token from before their ban.
    expect(bans.isBanned('user-1', T0)).toBe(false);
    expect(bans.isRevoked('user-1', T0)).toBe(true);
    expect(bans.isRevoked('USER-1', T0 - 60_000)).toBe(true);
    // Nor can anyone else with a token as old (they refresh); newer tokens pass.
    expect(bans.isRevoked('someone', T0)).toBe(true);
    expect(bans.isRevoked('someone', T0 + 1)).toBe(false);
    // A second eviction raises the floor; an unban or a stale event never lowers it.
    bans.revokeSessions({ userId: 'user-4', notBefore: new Date(T0 + 20_000) });
    bans.ban({ userId: 'user-5', bannedAt: new Date(T0 + 30_000), version: 1 });
    expect(bans.isRevoked('someone', T0 + 5_000)).toBe(true);
    bans.unban({ userId: 'user-2', unbannedAt: new Date(T0 + 40_000), version: 2 });
    expect(bans.ban({ userId: 'user-5', bannedAt: new Date(T0), version: 1 })).toBe('stale');
    expect(bans.isRevoked('someone', T0 + 5_000)).toBe(true);
    expect(bans.isRevoked('someone', T0 + 5_001)).toBe(false);
    // Until the latest evicted entry's own expiry, when every token that old has expired too.
    clock.nowMs = T0 + 5_000 + WINDOW_MS - 1;
    expect(bans.isRevoked('someone', T0 + 5_000)).toBe(true);
    clock.nowMs = T0 + 5_000 + WINDOW_MS;
    expect(bans.isRevoked('someone', T0 + 5_000)).toBe(false);
  });

  it('stays whole when the clock moves while it makes room: every recent ban refused, no throw', () => {
    // A real clock moves between the reads of one call: here every read advances it by 1 ms, so an
    // entry can expire between the check that it is live and its eviction.
    let nowMs = T0;
    const bans = new BanList({ max: 3, windowMs: 20, logger: silentLogger(), now: () => nowMs++ });
    const made: { userId: string; atMs: number }[] = [];
    for (let i = 0; i < 3_000; i++) {
      const userId = `user-${i % 7}-${i}`;
      const atMs = nowMs - (i % 5);
      expect(() => bans.ban({ userId, bannedAt: new Date(atMs), version: 1 })).not.toThrow();
      made.push({ userId, atMs });
      // The ban just made is refused: by its entry, or by the floor an eviction left.
      const { userId: last, atMs: lastAt } = made[made.length - 1]!;
      expect(bans.isBanned(last, lastAt) || bans.isRevoked(last, lastAt)).toBe(true);
      expect(bans.size).toBeLessThanOrEqual(6);
    }
  });

  it('a revocation evicted early raises the same floor', () => {
    const { bans } = frozenBanList({ max: 1 });
    bans.revokeSessions({ userId: 'user-1', notBefore: new Date(T0) });
    bans.revokeSessions({ userId: 'user-2', notBefore: new Date(T0 + 1_000) });
    expect(bans.isRevoked('user-1', T0)).toBe(true);
    expect(bans.isRevoked('someone', T0)).toBe(true);
    expect(bans.isRevoked('someone', T0 + 1)).toBe(false);
  });

  it('grows past its first slots as it fills, and keeps set order: expired first, then the oldest set', () => {
    const early: string[] = [];
    const { bans, clock } = frozenBanList({ max: 3_000, onEarlyEviction: (userId) => early.push(userId) });
    for (let i = 0; i < 3_000; i++) bans.ban({ userId: `user-${i}`, bannedAt: new Date(T0 + i), version: 1 });
    expect(bans.size).toBe(3_000);
    // Banning user-0 again makes it the most recent; user-1 is now the oldest set.
    bans.ban({ userId: 'user-0', bannedAt: new Date(T0 + 5_000), version: 2 });
    bans.ban({ userId: 'new-1', bannedAt: new Date(T0 + 5_000), version: 1 });
    expect(early).toEqual(['user-1']);
    // Once the oldest expire, they make room without an early eviction, from anywhere in the table.
    clock.nowMs = T0 + 10 + WINDOW_MS;
    for (let i = 0; i < 8; i++) bans.ban({ userId: `late-${i}`, bannedAt: new Date(clock.nowMs), version: 1 });
    expect(early).toEqual(['user-1']);
    expect(bans.isBanned('user-0', T0 + 5_000)).toBe(true);
    expect(bans.isBanned('user-2', T0)).toBe(false);
    expect(bans.isBanned('user-11', T0 + 11)).toBe(true);
    expect(bans.isBanned('late-7', clock.nowMs)).toBe(true);
    expect(bans.size).toBe(3_000 - 11 + 2 + 8);
  });

  it('stays quiet when the entry pushed out had already expired', () => {
    const { logger, lines } = capturingLogger();
    const onEarlyEviction = vi.fn();
    const { bans, clock } = frozenBanList({ max: 2, logger, onEarlyEviction });
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    clock.nowMs = T0 + WINDOW_MS + 1;
    bans.ban({ userId: 'user-2', bannedAt: new Date(clock.nowMs), version: 1 });
    bans.ban({ userId: 'user-3', bannedAt: new Date(clock.nowMs), version: 1 });
    expect(onEarlyEviction).not.toHaveBeenCalled();
    expect(lines().filter((line) => (line.level as number) >= 50)).toEqual([]);
    expect(bans.isBanned('user-2', T0)).toBe(true);
    expect(bans.isBanned('user-3', T0)).toBe(true);
  });
});

describe('BanList: capacity and recency', () => {
  it('pushes out an expired entry, not a live one, however recently the expired one was asked about', () => {
    const { logger, lines } = capturingLogger();
    const onEarlyEviction = vi.fn();
    const { bans, clock } = frozenBanList({ max: 2, logger, onEarlyEviction });
    bans.ban({ userId: 'user-a', bannedAt: new Date(T0), version: 1 });
    clock.nowMs = T0 + 60_000;
    bans.ban({ userId: 'user-b', bannedAt: new Date(clock.nowMs), version: 1 });
    // A's banned user keeps trying right up to (and past) the end of A's window.
    clock.nowMs = T0 + WINDOW_MS - 1;
    expect(bans.isBanned('user-a', T0)).toBe(true);
    expect(bans.isActive('user-a')).toBe(true);
    clock.nowMs = T0 + WINDOW_MS + 1;
    expect(bans.isBanned('user-a', T0)).toBe(false);
    bans.ban({ userId: 'user-c', bannedAt: new Date(clock.nowMs), version: 1 });
    expect(onEarlyEviction).not.toHaveBeenCalled();
    expect(lines().filter((line) => line.level === 50)).toEqual([]);
    expect(bans.isBanned('user-b', T0 + 60_000)).toBe(true);
    expect(bans.isBanned('user-c', clock.nowMs)).toBe(true);
  });
});

describe('BanList: a window counted from an earlier instant', () => {
  it('refuses up to bannedAt but lets the entry go at windowFrom + windowMs', () => {
    const { bans, clock } = frozenBanList();
    const farFuture = new Date(Date.UTC(2126, 0, 1));
    expect(bans.ban({ userId: 'user-1', bannedAt: farFuture, version: 1, windowFrom: new Date(T0) })).toBe('applied');
    expect(bans.isBanned('user-1', farFuture.getTime())).toBe(true);
    clock.nowMs = T0 + WINDOW_MS - 1;
    expect(bans.isBanned('user-1', T0 + 60_000)).toBe(true);
    clock.nowMs = T0 + WINDOW_MS + 1;
    expect(bans.isBanned('user-1', T0 + 60_000)).toBe(false);
    expect(bans.size).toBe(0);
  });

  it('never shortens a held entry\'s life with a shorter window', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 10_000), version: 1 });
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 20_000), version: 2, windowFrom: new Date(T0) });
    clock.nowMs = T0 + 10_000 + WINDOW_MS - 1;
    expect(bans.isBanned('user-1', T0 + 20_000)).toBe(true);
  });
});

describe('BanList: options', () => {
  it.each([
    ['max 0', { max: 0 }],
    ['max negative', { max: -1 }],
    ['max a fraction', { max: 1.5 }],
    ['max infinite', { max: Number.POSITIVE_INFINITY }],
    ['windowMs 0', { windowMs: 0 }],
    ['windowMs NaN', { windowMs: Number.NaN }],
    ['windowMs negative', { windowMs: -1_000 }],
  ])('refuses %s with a TypeError', (_name, options) => {
    expect(() => new BanList({ max: 100, windowMs: WINDOW_MS, logger: silentLogger(), ...options })).toThrow(TypeError);
  });
});

describe('BanList: revoked sessions', () => {
  it('refuses a token issued at or before notBefore as revoked, not banned, and lets later ones through', () => {
    const { bans } = frozenBanList();
    expect(bans.revokeSessions({ userId: 'user-1', notBefore: new Date(T0) })).toBe('applied');
    expect(bans.isRevoked('user-1', T0 - 1)).toBe(true);
    expect(bans.isRevoked('user-1', T0)).toBe(true);
    expect(bans.isRevoked('user-1', T0 + 1)).toBe(false);
    expect(bans.isBanned('user-1', T0 - 1)).toBe(false);
    expect(bans.isActive('user-1')).toBe(false);
    expect(bans.isRevoked('USER-1', T0)).toBe(true);
  });

  it('keeps the latest notBefore whatever order revocations arrive in, and nothing loosens it', () => {
    const { bans } = frozenBanList();
    bans.revokeSessions({ userId: 'user-1', notBefore: new Date(T0 + 5_000) });
    expect(bans.revokeSessions({ userId: 'user-1', notBefore: new Date(T0) })).toBe('stale');
    expect(bans.isRevoked('user-1', T0 + 5_000)).toBe(true);
    // A ban and an unban of the user leave the revocation as it was, and it leaves the ban.
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0 + 1_000), version: 1 });
    bans.unban({ userId: 'user-1', unbannedAt: new Date(T0 + 2_000), version: 2 });
    expect(bans.isRevoked('user-1', T0 + 5_000)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 1_000)).toBe(true);
    bans.revokeSessions({ userId: 'user-1', notBefore: new Date(T0 + 9_000) });
    expect(bans.isBanned('user-1', T0 + 1_000)).toBe(true);
    expect(bans.isBanned('user-1', T0 + 1_001)).toBe(false);
    expect(bans.isRevoked('user-1', T0 + 9_000)).toBe(true);
  });

  it('holds revocations apart from bans: a flood of users signing out everywhere never pushes a ban out', () => {
    const early: string[] = [];
    const { bans } = frozenBanList({ max: 3, onEarlyEviction: (userId) => early.push(userId) });
    bans.ban({ userId: 'banned', bannedAt: new Date(T0), version: 1 });
    for (let i = 0; i < 10; i++) bans.revokeSessions({ userId: `flooder-${i}`, notBefore: new Date(T0 + i) });
    expect(bans.isBanned('banned', T0)).toBe(true);
    // The revocations push one another out (each logged and counted), never the ban.
    expect(early).toEqual(Array.from({ length: 7 }, (_, i) => `flooder-${i}`));
    expect(bans.size).toBe(4);
  });

  it('lives a window after notBefore, apart from a ban of the same user, then goes', () => {
    const { bans, clock } = frozenBanList();
    bans.ban({ userId: 'user-1', bannedAt: new Date(T0), version: 1 });
    bans.revokeSessions({ userId: 'user-1', notBefore: new Date(T0 + 60_000) });
    clock.nowMs = T0 + WINDOW_MS + 30_000;
    expect(bans.isRevoked('user-1', T0)).toBe(true);
    // The ban's own window is over: every token from before it has expired.
    expect(bans.isBanned('user-1', T0)).toBe(false);
    clock.nowMs = T0 + 60_000 + WINDOW_MS - 1;
    expect(bans.isRevoked('user-1', T0)).toBe(true);
    clock.nowMs = T0 + 60_000 + WINDOW_MS + 1;
    expect(bans.isRevoked('user-1', T0)).toBe(false);
    expect(bans.size).toBe(0);
    expect(bans.revokeSessions({ userId: 'user-2', notBefore: new Date(T0) })).toBe('expired');
  });
});
