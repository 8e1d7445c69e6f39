import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { signup } from './signup.js';
import { ADMIN_EMAIL, startAuth, type TestAuth } from './start-auth.js';

let auth: TestAuth;
let adminCookie: string;
beforeAll(async () => {
  auth = await startAuth();
  adminCookie = (await signup(auth, ADMIN_EMAIL)).cookie;
});
afterAll(() => auth.close());

const newUserId = async (email: string) => (await signup(auth, email)).id;

/** Bans with this exact request body, so a JSON escape such as \ud800 reaches the server as written. */
const banRaw = (id: string, body: string) => request(auth.app).post(`/api/admin/users/${id}/ban`)
  .set('Cookie', adminCookie).set('Content-Type', 'application/json').send(body);

async function outboxRows(userId: string): Promise<number> {
  const { rows } = await auth.db.query("SELECT 1 FROM outbox WHERE payload->>'userId' = $1", [userId]);
  return rows.length;
}

describe('a ban reason that is not well-formed Unicode', () => {
  it.each([
    ['a lone high surrogate', String.raw`{"reason":"bad \ud800 guy"}`],
    ['a lone low surrogate', String.raw`{"reason":"bad \udc00 guy"}`],
    ['a pair in the wrong order', String.raw`{"reason":"\ude00\ud83d"}`],
    ['a high surrogate at the end', String.raw`{"reason":"cut off \ud83d"}`],
  ])('is a 400 on reason (%s), and no ban or event is made', async (label, body) => {
    const id = await newUserId(`surrogate-${label.replaceAll(' ', '-')}@example.com`);
    const res = await banRaw(id, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: 'The reason must be well-formed Unicode text', field: 'reason' }] });
    expect(await outboxRows(id)).toBe(0);
    const listed = await request(auth.app).get('/api/admin/users?banned=true').set('Cookie', adminCookie).expect(200);
    expect(listed.body.map((user: { id: string }) => user.id)).not.toContain(id);
  });

  it('a surrogate pair (an emoji, escaped or not) is a reason like any other', async () => {
    const escaped = await newUserId('pair-escaped@example.com');
    const res = await banRaw(escaped, String.raw`{"reason":"spam \ud83d\ude00"}`);
    expect(res.status).toBe(200);
    expect(res.body.banReason).toBe('spam \u{1F600}');
    const plain = await newUserId('pair-plain@example.com');
    expect((await banRaw(plain, JSON.stringify({ reason: 'spam \u{1F600}' }))).status).toBe(200);
    expect(await outboxRows(escaped)).toBe(1);
  });
});
