import type { Express } from 'express';
import request from 'supertest';
import { sessionCookieOf } from '@ticketing/testing';

/** Signs a user up on an auth app (password `password1`), expecting 201: its id and session cookie. */
export async function signup(auth: { app: Express }, email: string): Promise<{ id: string; cookie: string }> {
  const res = await request(auth.app).post('/api/users/signup').send({ email, password: 'password1' }).expect(201);
  return { id: res.body.id as string, cookie: sessionCookieOf(res) };
}
