import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Ajv from 'ajv';
import { describe, it, expect } from 'vitest';
import { AUTH_EVENT_SCHEMAS, Subjects, checkAuthEvent, type AuthEvent } from '../src/events/auth-events.js';

// The generator is a plain .mjs script (run by node without a build step for itself); this is the
// part of it the test uses.
interface EventSchemasScript {
  SCHEMA_DIR: string;
  renderEventSchemas(schemas: typeof AUTH_EVENT_SCHEMAS): Map<string, string>;
}
const script = (await import(new URL('../scripts/event-schemas.mjs', import.meta.url).href)) as EventSchemasScript;
const rendered = script.renderEventSchemas(AUTH_EVENT_SCHEMAS);
const REGENERATE = 'run `npx tsc -b && node common/scripts/event-schemas.mjs` and commit common/schema/';

describe('common/schema/ holds the JSON Schemas the zod schemas produce', () => {
  it('renders one file per subject', () => {
    expect([...rendered.keys()]).toEqual(Object.keys(AUTH_EVENT_SCHEMAS).sort().map((subject) => `${subject}.schema.json`));
  });

  it.each([...rendered.keys()])('%s is up to date', async (name) => {
    const committed = await readFile(join(script.SCHEMA_DIR, name), 'utf8').catch(() => undefined);
    expect(committed, `common/schema/${name} is missing; ${REGENERATE}`).toBeDefined();
    expect(committed, `common/schema/${name} differs from what the zod schemas produce; ${REGENERATE}`).toBe(rendered.get(name));
  });

  it('holds no schema for a subject that no longer exists', async () => {
    const stale = (await readdir(script.SCHEMA_DIR)).filter((name) => !rendered.has(name));
    expect(stale, `remove ${stale.map((name) => `common/schema/${name}`).join(', ')}`).toEqual([]);
  });
});

const USER_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const banned = {
  id: '6f1c2a52-3c7e-4d0b-9f3a-2b8f1d1e9a10',
  userId: USER_ID,
  bannedAt: '2030-01-01T00:00:00.000Z',
  reason: 'spam',
  version: 1,
};
const unbanned = { id: '0b5e3d6c-8a1f-4c2e-b7d9-1e2f3a4b5c6d', userId: USER_ID, unbannedAt: '2030-01-02T00:00:00Z', version: 2 };
const revoked = { id: '5f0c2b1e-3d4a-4b6c-8e9f-0a1b2c3d4e5f', userId: USER_ID, notBefore: '2030-01-03T00:00:00Z', version: 1 };
const without = <T extends object>(payload: T, field: keyof T) => Object.fromEntries(Object.entries(payload).filter(([key]) => key !== field));

// Each sample with the verdict both the zod schema and the published JSON Schema must reach.
const samples: [label: string, subject: AuthEvent['subject'], valid: boolean, payload: unknown][] = [
  ['a ban', Subjects.UserBanned, true, banned],
  ['a ban with an empty reason', Subjects.UserBanned, true, { ...banned, reason: '' }],
  ['a ban with a 1000-character reason', Subjects.UserBanned, true, { ...banned, reason: 'x'.repeat(1000) }],
  ['a ban dated with an offset', Subjects.UserBanned, true, { ...banned, bannedAt: '2030-01-01T02:00:00+02:00' }],
  ['a ban at the largest version', Subjects.UserBanned, true, { ...banned, version: Number.MAX_SAFE_INTEGER }],
  ['a ban with a field a later version may add', Subjects.UserBanned, true, { ...banned, bannedBy: USER_ID }],
  ['an unban', Subjects.UserUnbanned, true, unbanned],
  ['a revocation of sessions', Subjects.SessionsRevoked, true, revoked],
  ['a revocation without notBefore', Subjects.SessionsRevoked, false, without(revoked, 'notBefore')],
  ['a revocation dated without an offset', Subjects.SessionsRevoked, false, { ...revoked, notBefore: '2030-01-01T00:00:00' }],
  ['a revocation whose userId is not a UUID', Subjects.SessionsRevoked, false, { ...revoked, userId: 'alice' }],
  ['a ban without id', Subjects.UserBanned, false, without(banned, 'id')],
  ['a ban without userId', Subjects.UserBanned, false, without(banned, 'userId')],
  ['a ban without bannedAt', Subjects.UserBanned, false, without(banned, 'bannedAt')],
  ['a ban without reason', Subjects.UserBanned, false, without(banned, 'reason')],
  ['a ban without version', Subjects.UserBanned, false, without(banned, 'version')],
  ['an unban without unbannedAt', Subjects.UserUnbanned, false, without(unbanned, 'unbannedAt')],
  ['an id that is not a UUID', Subjects.UserBanned, false, { ...banned, id: 'event-1' }],
  ['a userId that is not a UUID', Subjects.UserBanned, false, { ...banned, userId: `${USER_ID}0` }],
  ['a userId that is a number', Subjects.UserBanned, false, { ...banned, userId: 42 }],
  ['a 1001-character reason', Subjects.UserBanned, false, { ...banned, reason: 'x'.repeat(1001) }],
  ['a null reason', Subjects.UserBanned, false, { ...banned, reason: null }],
  ['version 0', Subjects.UserBanned, false, { ...banned, version: 0 }],
  ['a fractional version', Subjects.UserBanned, false, { ...banned, version: 1.5 }],
  ['a version as a string', Subjects.UserBanned, false, { ...banned, version: '1' }],
  ['a version past 2^53 - 1', Subjects.UserBanned, false, { ...banned, version: 2 ** 53 }],
  ['a bannedAt without an offset', Subjects.UserBanned, false, { ...banned, bannedAt: '2030-01-01T00:00:00' }],
  ['a bannedAt that is a date only', Subjects.UserBanned, false, { ...banned, bannedAt: '2030-01-01' }],
  ['a bannedAt on 30 February', Subjects.UserBanned, false, { ...banned, bannedAt: '2030-02-30T00:00:00Z' }],
  ['an unbannedAt as epoch milliseconds', Subjects.UserUnbanned, false, { ...unbanned, unbannedAt: 1_893_456_000_000 }],
  ['an array', Subjects.UserBanned, false, [banned]],
  ['null', Subjects.UserUnbanned, false, null],
];

describe('the published JSON Schemas accept what the zod schemas accept (checked with ajv)', () => {
  // ajv 6 (installed with eslint) implements draft-07, the draft the schemas are generated for.
  const ajv = new Ajv({ allErrors: true });
  const validators = new Map(
    [...rendered].map(([name, text]) => [name.replace(/\.schema\.json$/, ''), ajv.compile(JSON.parse(text) as object)]),
  );
  const validate = (subject: string, payload: unknown) => {
    const validator = validators.get(subject)!;
    return { valid: validator(payload) as boolean, errors: ajv.errorsText(validator.errors) };
  };

  it.each([...rendered])('%s is a valid draft-07 schema', (_name, text) => {
    expect(ajv.validateSchema(JSON.parse(text) as object), ajv.errorsText(ajv.errors)).toBe(true);
  });

  it.each(samples)('%s (%s): valid %s', (_label, subject, valid, payload) => {
    expect(AUTH_EVENT_SCHEMAS[subject].safeParse(payload).success).toBe(valid);
    const result = validate(subject, payload);
    expect(result.valid, result.errors).toBe(valid);
  });

  it('describes a user id as published: lower case, though consumers take any case', () => {
    const payload = { ...banned, userId: USER_ID.toUpperCase() };
    expect(AUTH_EVENT_SCHEMAS[Subjects.UserBanned].safeParse(payload).success).toBe(true);
    expect(validate(Subjects.UserBanned, payload)).toMatchObject({ valid: false, errors: expect.stringContaining('userId') as unknown });
    const published = checkAuthEvent({ subject: Subjects.UserBanned, payload }).payload;
    expect(published.userId).toBe(USER_ID);
    expect(validate(Subjects.UserBanned, published).valid).toBe(true);
  });
});
