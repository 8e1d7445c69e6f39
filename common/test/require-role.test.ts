import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { requireRole } from '@ticketing/common';
import { ADMIN, T0, middlewareApp, signAt, whoAmI } from './fixtures.js';

function app() {
  return middlewareApp((a) => a.get('/admin', requireRole('admin'), whoAmI)).app;
}

describe("requireRole('admin')", () => {
  it('answers 401 when signed out', async () => {
    const res = await request(app()).get('/admin');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: 'Not authenticated' }] });
  });

  it('answers 403 Forbidden to a user', async () => {
    const res = await request(app()).get('/admin').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ errors: [{ message: 'Forbidden' }] });
  });

  it('lets an admin through', async () => {
    const res = await request(app()).get('/admin').set('Authorization', `Bearer ${signAt(T0, ADMIN)}`);
    expect(res.status).toBe(200);
    expect(res.body.currentUser).toMatchObject({ id: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', role: 'admin' });
  });

  it('refuses an unknown role at once (TypeError)', () => {
    expect(() => requireRole('root' as never)).toThrow(TypeError);
    expect(() => requireRole('root' as never)).toThrow(/root/);
    expect(() => requireRole(undefined as never)).toThrow(TypeError);
    expect(typeof requireRole('user')).toBe('function');
  });
});
