import { describe, expect, it } from 'vitest';
import { AUTH_EVENT_SCHEMAS, inCanonicalForm, parseAuthEvent, Subjects, type AuthEvent } from '../src/events/auth-events.js';

// parseAuthEvent takes payloads in auth's own form without zod; this holds it to zod's verdict
// and output over valid and broken payloads of every kind.

const ID = '3f1c1b9e-5d2a-4c8e-9f4b-2a6d8e0c1b7a';
const USER = '0b7e8d6c-2f4a-4e1b-8c3d-5a9f7e6d4c2b';
const AT = '2026-12-02T04:05:06.789Z';

const base: Record<AuthEvent['subject'], Record<string, unknown>> = {
  [Subjects.UserBanned]: { id: ID, userId: USER, bannedAt: AT, reason: 'spam', version: 3 },
  [Subjects.UserUnbanned]: { id: ID, userId: USER, unbannedAt: AT, version: 4 },
  [Subjects.SessionsRevoked]: { id: ID, userId: USER, notBefore: AT, version: 1 },
};
const DATE_FIELD = { [Subjects.UserBanned]: 'bannedAt', [Subjects.UserUnbanned]: 'unbannedAt', [Subjects.SessionsRevoked]: 'notBefore' } as const;

const dates = [
  AT, '2024-02-29T00:00:00.000Z', '2023-02-29T00:00:00.000Z', '2100-02-29T00:00:00.000Z', '2000-02-29T12:00:00.000Z',
  '2026-04-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2026-00-10T00:00:00.000Z',
  '2026-01-00T00:00:00.000Z', '2026-01-32T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T23:60:00.000Z',
  '2026-01-01T23:59:60.000Z', '2026-01-01T23:59:59Z', '2026-01-01T23:59:59.123456Z', '2026-01-01T23:59:59.1Z',
  '2026-01-01T23:59:59.123+02:00', '2026-01-01T23:59:59.123z', '0000-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z',
  ' 2026-01-01T00:00:00.000Z', '2026-01-01 00:00:00.000Z', '+002026-01-01T00:00:00.000Z', '2026-1-01T00:00:00.000Z',
  '1900-02-29T00:00:00.000Z', '1600-02-29T00:00:00.000Z', '2026-06-31T00:00:00.000Z', '2026-11-31T00:00:00.000Z',
  '2026-09-30T00:00:00.000Z', '2026-02-28T00:00:00.000Z', '', 12, null,
];
const ids = [
  ID, ID.toUpperCase(), 'c232ab00-9414-11ec-b3c8-9f6bdeced846', '00000000-0000-0000-0000-000000000000', '3f1c1b9e-5d2a-4c8e-7f4b-2a6d8e0c1b7a',
  '3f1c1b9e5d2a4c8e9f4b2a6d8e0c1b7a', `${ID} `, '', 42, null,
];
const users = [USER, USER.toUpperCase(), '0b7e8d6c-2f4a-1e1b-0c3d-5a9f7e6d4c2b', 'not-a-uuid', `${USER}\n`, 7, null];
const versions = [1, 2 ** 53 - 1, 2 ** 53, 0, -1, 1.5, 1e3, '1', null, true];
const reasons = ['', 'spam', 'x'.repeat(1000), 'x'.repeat(1001), 'é'.repeat(1000), 5, null, ['spam']];

function variants(subject: AuthEvent['subject']): unknown[] {
  const payload = base[subject];
  const out: unknown[] = [payload, null, [payload], 'text', 12, {}];
  const set = (key: string, value: unknown) => ({ ...payload, [key]: value });
  for (const date of dates) out.push(set(DATE_FIELD[subject], date));
  for (const id of ids) out.push(set('id', id));
  for (const user of users) out.push(set('userId', user));
  for (const version of versions) out.push(set('version', version));
  if (subject === Subjects.UserBanned) for (const reason of reasons) out.push(set('reason', reason));
  for (const key of Object.keys(payload)) {
    const { [key]: _dropped, ...rest } = payload;
    out.push(rest);
  }
  out.push(set('extra', 1), JSON.parse(`{"__proto__":{"x":1},${JSON.stringify(payload).slice(1)}`), set('reason', 'spam'));
  return out;
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('parseAuthEvent: payloads in auth\'s own form', () => {
  for (const subject of [Subjects.UserBanned, Subjects.UserUnbanned, Subjects.SessionsRevoked] as const) {
    it(`agrees with the zod schema of ${subject}, in verdict and in output`, () => {
      const cases = variants(subject);
      let accepted = 0;
      let canonical = 0;
      for (const payload of cases) {
        const zod = AUTH_EVENT_SCHEMAS[subject].safeParse(payload);
        // What the fast path takes, zod takes unchanged.
        const fast = inCanonicalForm(subject, payload);
        if (fast !== undefined) {
          canonical++;
          expect({ payload, zod: zod.success }).toEqual({ payload, zod: true });
          expect(fast).toEqual(zod.data);
        }
        let ours: AuthEvent | undefined;
        try {
          ours = parseAuthEvent(subject, encode(payload));
        } catch {
          ours = undefined;
        }
        expect({ payload, accepted: ours !== undefined }).toEqual({ payload, accepted: zod.success });
        if (zod.success) {
          accepted++;
          expect(ours!.payload).toEqual(zod.data);
        }
      }
      expect(accepted).toBeGreaterThan(10);
      expect(canonical).toBeGreaterThan(10);
      expect(inCanonicalForm(subject, base[subject])).toEqual(base[subject]);
      expect(cases.length - accepted).toBeGreaterThan(20);
    });
  }

  it('agrees with zod on every day of four hundred years of calendar, and on days that do not exist', () => {
    for (let year = 1900; year <= 2300; year += 1) {
      for (const [month, day] of [[2, 28], [2, 29], [2, 30], [4, 30], [4, 31], [12, 31], [12, 32]] as const) {
        const date = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T10:20:30.400Z`;
        const payload = { ...base[Subjects.UserBanned], bannedAt: date };
        const zod = AUTH_EVENT_SCHEMAS[Subjects.UserBanned].safeParse(payload).success;
        expect({ date, fast: inCanonicalForm(Subjects.UserBanned, payload) !== undefined }).toEqual({ date, fast: zod });
        const ours = (() => {
          try {
            parseAuthEvent(Subjects.UserBanned, encode(payload));
            return true;
          } catch {
            return false;
          }
        })();
        expect({ date, ours }).toEqual({ date, ours: zod });
      }
    }
  });
});
