import { expect } from 'vitest';
import { postJson, sessionCookieOf } from '@ticketing/testing';

/** Signs a user up on the auth process at `authUrl` (password `password1`), expecting 201: its id and session cookie. */
export async function signup(authUrl: string, email: string): Promise<{ id: string; cookie: string }> {
  const res = await postJson(`${authUrl}/api/users/signup`, { email, password: 'password1' });
  expect(res.status).toBe(201);
  return { id: ((await res.json()) as { id: string }).id, cookie: sessionCookieOf(res) };
}
