import { describe, it, expect } from 'vitest';
import {
  AUTH_STREAM,
  MalformedEventError,
  Subjects,
  checkAuthEvent,
  encodeEvent,
  isKnownSubject,
  parseAuthEvent,
  type UserBannedPayload,
  type UserUnbannedPayload,
} from '@ticketing/common';

const BANNED: UserBannedPayload = {
  id: '6f1c2a52-3c7e-4d0b-9f3a-2b8f1d1e9a10',
  userId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  bannedAt: '2030-01-01T00:00:00.000Z',
  reason: 'spam',
  version: 1,
};

const UNBANNED: UserUnbannedPayload = {
  id: '0b9d1f7e-8a55-4c4e-a1f2-5e6d7c8b9a01',
  userId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  unbannedAt: '2030-01-01T00:05:00.000Z',
  version: 2,
};

const bytes = (text: string) => new TextEncoder().encode(text);

/** The error `parseAuthEvent` threw, so a test can look at it. */
function parseError(subject: string, data: Uint8Array): unknown {
  try {
    parseAuthEvent(subject, data);
  } catch (err) {
    return err;
  }
  throw new Error('parseAuthEvent accepted the event');
}

describe('Subjects', () => {
  it('spells the subjects and stream of the design', () => {
    expect(AUTH_STREAM).toBe('AUTH');
    expect(Subjects.All).toBe('auth.>');
    expect(Subjects.UserEvents).toBe('auth.user.>');
    expect(Subjects.UserBanned).toBe('auth.user.banned');
    expect(Subjects.UserUnbanned).toBe('auth.user.unbanned');
    expect(Object.isFrozen(Subjects)).toBe(true);
  });
});

describe('isKnownSubject', () => {
  it.each([Subjects.UserBanned, Subjects.UserUnbanned])('knows %s', (subject) => {
    expect(isKnownSubject(subject)).toBe(true);
  });

  it.each(['auth.user.renamed', 'auth.>', 'auth.user.>', 'AUTH.USER.BANNED', '', 'toString', '__proto__', 'constructor'])(
    'does not know %j',
    (subject) => {
      expect(isKnownSubject(subject)).toBe(false);
    },
  );
});

describe('parseAuthEvent / encodeEvent', () => {
  it('round-trips a ban', () => {
    expect(parseAuthEvent(Subjects.UserBanned, encodeEvent(BANNED))).toEqual({ subject: Subjects.UserBanned, payload: BANNED });
  });

  it('round-trips an unban', () => {
    expect(parseAuthEvent(Subjects.UserUnbanned, encodeEvent(UNBANNED))).toEqual({ subject: Subjects.UserUnbanned, payload: UNBANNED });
  });

  it('gives a userId in any letter case its canonical lower-case form', () => {
    const upper = { ...BANNED, userId: BANNED.userId.toUpperCase() };
    expect(parseAuthEvent(Subjects.UserBanned, encodeEvent(upper)).payload.userId).toBe(BANNED.userId);
    const mixed = { ...UNBANNED, userId: '3F2504e0-4F89-41d3-9A0C-0305e82c3301' };
    expect(parseAuthEvent(Subjects.UserUnbanned, encodeEvent(mixed)).payload.userId).toBe(UNBANNED.userId);
  });

  it('checks an event before it is published, returning it in canonical form', () => {
    const event = { subject: Subjects.UserBanned, payload: { ...BANNED, userId: BANNED.userId.toUpperCase() } } as const;
    expect(checkAuthEvent(event)).toEqual({ subject: Subjects.UserBanned, payload: BANNED });
    expect(() => checkAuthEvent({ subject: Subjects.UserBanned, payload: { ...BANNED, reason: 'r'.repeat(1001) } })).toThrow(/invalid auth\.user\.banned event: reason/);
    expect(() => checkAuthEvent({ subject: Subjects.UserUnbanned, payload: { ...UNBANNED, version: 0 } })).toThrow(TypeError);
    expect(() => checkAuthEvent({ subject: 'auth.user.other', payload: BANNED } as never)).toThrow(/unknown auth event subject/);
  });

  it('encodes UTF-8 JSON', () => {
    const payload = { ...BANNED, reason: 'spam ✉ in ünïcode' };
    const data = encodeEvent(payload);
    expect(data).toBeInstanceOf(Uint8Array);
    expect(JSON.parse(new TextDecoder().decode(data))).toEqual(payload);
    expect(parseAuthEvent(Subjects.UserBanned, data).payload).toEqual(payload);
  });

  it('accepts a time with an offset and a reason of exactly 1000 characters', () => {
    const payload = { ...BANNED, bannedAt: '2030-01-01T01:00:00+01:00', reason: 'r'.repeat(1000) };
    expect(parseAuthEvent(Subjects.UserBanned, encodeEvent(payload)).payload).toEqual(payload);
  });

  it('reads only its own bytes of a shared buffer', () => {
    const json = encodeEvent(BANNED);
    const shared = new Uint8Array(json.length + 20).fill(0x7b); // '{' around it: JSON.parse would choke
    shared.set(json, 10);
    expect(parseAuthEvent(Subjects.UserBanned, shared.subarray(10, 10 + json.length)).payload).toEqual(BANNED);
  });

  it.each([
    ['not JSON', Subjects.UserBanned, bytes('{"id": ')],
    ['an empty buffer', Subjects.UserBanned, new Uint8Array(0)],
    ['a JSON array', Subjects.UserBanned, bytes('[]')],
    ['JSON null', Subjects.UserBanned, bytes('null')],
    ['a JSON string', Subjects.UserBanned, bytes('"banned"')],
    ['a missing userId', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, userId: undefined }))],
    ['an empty userId', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, userId: '' }))],
    ['a userId that is not a UUID', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, userId: 'user-1' }))],
    ['a userId with spaces around it', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, userId: ` ${BANNED.userId}` }))],
    ['a userId in braces', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, userId: `{${BANNED.userId}}` }))],
    ['an id that is not a UUID', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, id: 'evt-1' }))],
    ['a bannedAt that is not ISO-8601', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, bannedAt: 'Tue, 01 Jan 2030 00:00:00 GMT' }))],
    ['a bannedAt as epoch ms', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, bannedAt: Date.UTC(2030, 0, 1) }))],
    ['version 0', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, version: 0 }))],
    ['version 1.5', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, version: 1.5 }))],
    ['version as a string', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, version: '1' }))],
    ['a reason over 1000 characters', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, reason: 'r'.repeat(1001) }))],
    ['a missing reason', Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, reason: undefined }))],
    ['an unban without unbannedAt', Subjects.UserUnbanned, bytes(JSON.stringify({ ...UNBANNED, unbannedAt: undefined }))],
    ['a ban sent on the unban subject', Subjects.UserUnbanned, encodeEvent(BANNED)],
  ])('refuses %s with a MalformedEventError naming the subject', (_name, subject, data) => {
    const err = parseError(subject, data);
    expect(err).toBeInstanceOf(MalformedEventError);
    expect((err as MalformedEventError).subject).toBe(subject);
    expect((err as MalformedEventError).message).toMatch(new RegExp(`^malformed ${subject.replaceAll('.', '\\.')} event: `));
  });

  it('names the field that broke the contract', () => {
    const err = parseError(Subjects.UserBanned, bytes(JSON.stringify({ ...BANNED, version: 0 })));
    expect((err as Error).message).toContain('version');
  });

  it.each(['auth.user.renamed', 'auth.>', 'orders.created', '__proto__'])('throws a TypeError for the unknown subject %j', (subject) => {
    const err = parseError(subject, encodeEvent(BANNED));
    expect(err).toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(MalformedEventError);
  });
});
