import { z } from 'zod';
import { UUID_PATTERN } from '../tokens/user-id.js';

/** The JetStream stream that carries every auth event. */
export const AUTH_STREAM = 'AUTH';

/** The only place subjects are spelled. */
export const Subjects = Object.freeze({
  /** Everything in the `AUTH` stream. */
  All: 'auth.>',
  /** What ban sync consumes: every event about a user. */
  UserEvents: 'auth.user.>',
  UserBanned: 'auth.user.banned',
  UserUnbanned: 'auth.user.unbanned',
  /** Every session of the user ended (sign-out everywhere, a password change, a stolen refresh token). */
  SessionsRevoked: 'auth.user.sessions-revoked',
} as const);

const isoDate = z.iso.datetime({ offset: true });
const common = {
  id: z.uuid(),
  // One canonical form (lower-case UUID), whatever case the publisher used.
  userId: z.string().regex(UUID_PATTERN, { error: 'userId must be a UUID' }).transform((id) => id.toLowerCase()),
  version: z.int().positive(),
};

const userBanned = z.object({ ...common, bannedAt: isoDate, reason: z.string().max(1000) });
const userUnbanned = z.object({ ...common, unbannedAt: isoDate });
const sessionsRevoked = z.object({ ...common, notBefore: isoDate });

/** Payload of `auth.user.banned`. Times are ISO-8601 strings; `id` is also the JetStream message id. */
export type UserBannedPayload = z.infer<typeof userBanned>;
/** Payload of `auth.user.unbanned`. */
export type UserUnbannedPayload = z.infer<typeof userUnbanned>;
/**
 * Payload of `auth.user.sessions-revoked`: every token of the user issued at or before `notBefore`
 * is refused (401). `version` counts the user's revocations, apart from bans.
 */
export type SessionsRevokedPayload = z.infer<typeof sessionsRevoked>;

export type AuthEvent =
  | { subject: typeof Subjects.UserBanned; payload: UserBannedPayload }
  | { subject: typeof Subjects.UserUnbanned; payload: UserUnbannedPayload }
  | { subject: typeof Subjects.SessionsRevoked; payload: SessionsRevokedPayload };

const schemas = {
  [Subjects.UserBanned]: userBanned,
  [Subjects.UserUnbanned]: userUnbanned,
  [Subjects.SessionsRevoked]: sessionsRevoked,
} as const;

/**
 * The zod schema of each auth event's payload, keyed by subject: what `parseAuthEvent` and
 * `checkAuthEvent` apply, and what the JSON Schemas in `common/schema/` are generated from. A
 * frozen copy, so changing it cannot change what the parsers accept.
 *
 * @example
 * const result = AUTH_EVENT_SCHEMAS[Subjects.UserBanned].safeParse(json);
 */
export const AUTH_EVENT_SCHEMAS = Object.freeze({ ...schemas });

/** An event whose subject is known but whose payload is not what the contract says. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  constructor(
    readonly subject: string,
    problem: string,
  ) {
    super(`malformed ${subject} event: ${problem}`);
  }
}

/** True for subjects this version knows how to parse. */
export function isKnownSubject(subject: string): subject is AuthEvent['subject'] {
  return Object.hasOwn(schemas, subject);
}

const NOT_JSON = Symbol('not JSON');

/** The JSON in a message's bytes (only its own bytes of a shared buffer), or `NOT_JSON`. */
function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return NOT_JSON;
  }
}

/** A version 4 UUID in lower case, as auth makes event ids: one form `z.uuid()` accepts. */
const CANONICAL_EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** A user id already in its canonical (lower-case) form. */
const CANONICAL_USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CANONICAL_DATE = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** The fields of each payload besides `id`, `userId` and `version`: the date, and a ban's reason. */
const OWN_FIELDS = {
  [Subjects.UserBanned]: ['bannedAt', 'reason'],
  [Subjects.UserUnbanned]: ['unbannedAt'],
  [Subjects.SessionsRevoked]: ['notBefore'],
} as const;

/** `YYYY-MM-DDTHH:MM:SS.sssZ` naming a real day of the (proleptic) Gregorian calendar, as `toISOString()` writes one. */
function isCanonicalDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = CANONICAL_DATE.exec(value);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);
}

/**
 * The payload when it is exactly in the form auth publishes (those keys and no others, ids in
 * lower case, dates as `toISOString()` writes a real date, a safe positive integer version, a
 * reason of at most 1000 characters), else `undefined` and zod decides. Every payload this accepts
 * the schema accepts unchanged (a test holds the two to that over valid and broken payloads); it
 * is here because a replay parses every event in the window, and zod costs several times more.
 * Not part of the package's entry points.
 *
 * @internal
 */
export function inCanonicalForm(subject: AuthEvent['subject'], json: unknown): AuthEvent['payload'] | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const fields = OWN_FIELDS[subject];
  const payload = json as Record<string, unknown>;
  if (Object.keys(payload).length !== 3 + fields.length) return undefined;
  const { id, userId, version } = payload;
  if (typeof id !== 'string' || !CANONICAL_EVENT_ID.test(id)) return undefined;
  if (typeof userId !== 'string' || !CANONICAL_USER_ID.test(userId)) return undefined;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return undefined;
  const out: Record<string, unknown> = { id, userId, version };
  for (const field of fields) {
    const value = payload[field];
    if (!Object.hasOwn(payload, field)) return undefined;
    if (field === 'reason' ? typeof value !== 'string' || value.length > 1000 : !isCanonicalDate(value)) return undefined;
    out[field] = value;
  }
  return out as AuthEvent['payload'];
}

/** The first problem zod found, naming its field: `version: Too small...`. */
function firstProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || 'payload'}: ${issue.message}`;
}

/**
 * Parses and validates an event from the wire. Throws {@link MalformedEventError} for bad JSON or a
 * payload that breaks the contract, and a `TypeError` for a subject it does not know.
 *
 * @example
 * const event = parseAuthEvent(msg.subject, msg.data);
 * if (event.subject === Subjects.UserBanned) banList.ban(event.payload);
 */
export function parseAuthEvent(subject: string, data: Uint8Array): AuthEvent {
  if (!isKnownSubject(subject)) throw new TypeError(`unknown auth event subject: ${subject}`);
  const json = decodeJson(data);
  if (json === NOT_JSON) throw new MalformedEventError(subject, 'not JSON');
  const canonical = inCanonicalForm(subject, json);
  if (canonical !== undefined) return { subject, payload: canonical } as AuthEvent;
  const result = schemas[subject].safeParse(json);
  if (!result.success) throw new MalformedEventError(subject, firstProblem(result.error));
  return { subject, payload: result.data } as AuthEvent;
}

/**
 * Checks an event against the contract before it is committed for publishing, and returns it in
 * its canonical form (user id lower-cased). Throws a `TypeError` naming the field: a publisher
 * that would emit an event its consumers must skip as malformed fails at once instead, so a
 * malformed event on the stream can only be a forged or corrupted one, never a lost ban.
 *
 * @example
 * const event = checkAuthEvent({ subject: Subjects.UserBanned, payload });
 */
export function checkAuthEvent<E extends AuthEvent>(event: E): E {
  if (!isKnownSubject(event.subject)) throw new TypeError(`unknown auth event subject: ${String(event.subject)}`);
  const result = schemas[event.subject].safeParse(event.payload);
  if (!result.success) throw new TypeError(`invalid ${event.subject} event: ${firstProblem(result.error)}`);
  return { subject: event.subject, payload: result.data } as E;
}

/** What enforcing each refusing event needs, and the field that dates it. */
const essentials = {
  [Subjects.UserBanned]: { at: 'bannedAt', schema: z.looseObject({ userId: common.userId, bannedAt: isoDate, version: common.version }) },
  [Subjects.SessionsRevoked]: { at: 'notBefore', schema: z.looseObject({ userId: common.userId, notBefore: isoDate, version: common.version }) },
} as const;

/**
 * What enforcing a ban or a revocation needs (`userId`, its date as `at`, `version`) from a
 * `auth.user.banned` or `auth.user.sessions-revoked` payload that breaks the contract elsewhere (an
 * odd `id`, a long or missing `reason`); `undefined` when even those are unusable, or for any other
 * subject. A subscriber applies such an event rather than let tokens through over a field it does
 * not use.
 *
 * @example
 * const ban = readRefusalEssentials(msg.subject, msg.data); // after parseAuthEvent threw MalformedEventError
 */
export function readRefusalEssentials(subject: string, data: Uint8Array): { userId: string; at: string; version: number } | undefined {
  if (subject !== Subjects.UserBanned && subject !== Subjects.SessionsRevoked) return undefined;
  const json = decodeJson(data);
  if (json === NOT_JSON) return undefined;
  const { at, schema } = essentials[subject];
  const result = schema.safeParse(json);
  if (!result.success) return undefined;
  const fields = result.data as Record<string, unknown> & { userId: string; version: number };
  return { userId: fields.userId, at: fields[at] as string, version: fields.version };
}

/** Serialises a payload for publishing. */
export function encodeEvent(payload: AuthEvent['payload']): Uint8Array {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}
