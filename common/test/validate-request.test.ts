import { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { describe, it, expect, expectTypeOf } from 'vitest';
import { HttpError, requireAuth, signedInUser, uuidParam, validated, validateRequest } from '@ticketing/common/http';
import type { UserPayload } from '@ticketing/common/tokens';
import { ALICE, T0, middlewareApp, signAt } from './fixtures.js';

const signup = z.object({
  email: z.email(),
  password: z.string().min(8),
  age: z.coerce.number().int().default(18),
});

function app() {
  return middlewareApp((a) => {
    a.post('/signup', validateRequest({ body: signup }), (req, res) => {
      res.json({ body: req.body as unknown });
    });
    a.get('/orders/:id', validateRequest({ params: z.object({ id: z.coerce.number().int().positive() }) }), (req, res) => {
      res.json({ id: req.params.id as unknown, type: typeof (req.params.id as unknown) });
    });
  }).app;
}

describe('validateRequest', () => {
  it('replaces req.body with the parsed value (defaults applied, unknown keys stripped)', async () => {
    const res = await request(app()).post('/signup').send({ email: 'a@x.io', password: 'long enough', admin: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ body: { email: 'a@x.io', password: 'long enough', age: 18 } });
  });

  it('answers 400 with one { message, field } per bad field', async () => {
    const res = await request(app()).post('/signup').send({ email: 'not-an-email', password: 'short' });
    expect(res.status).toBe(400);
    const errors = (res.body as { errors: { message: string; field?: string }[] }).errors;
    expect(errors).toHaveLength(2);
    expect(errors.map((error) => error.field).sort()).toEqual(['email', 'password']);
    for (const error of errors) {
      expect(Object.keys(error).sort()).toEqual(['field', 'message']);
      expect(typeof error.message).toBe('string');
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('names nested fields with a dotted path', async () => {
    const server = middlewareApp((a) => {
      a.post('/x', validateRequest({ body: z.object({ ticket: z.object({ price: z.number() }) }) }), (_req, res) => { res.end(); });
    }).app;
    const res = await request(server).post('/x').send({ ticket: { price: 'free' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: expect.any(String), field: 'ticket.price' }]);
  });

  it('answers 400 without a field when there is no body at all', async () => {
    const res = await request(app()).post('/signup');
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toEqual({ message: expect.any(String) });
  });

  it('answers 400 to a body of the wrong type', async () => {
    const res = await request(app()).post('/signup').set('Content-Type', 'application/json').send('[1,2]');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: expect.any(String) }]);
  });

  it('validates and replaces route params', async () => {
    const ok = await request(app()).get('/orders/42');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ id: 42, type: 'number' });
    const bad = await request(app()).get('/orders/abc');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ message: expect.any(String), field: 'id' }]);
  });

  it('validates and replaces the query string', async () => {
    const server = middlewareApp((a) => {
      a.get('/search', validateRequest({ query: z.object({ limit: z.coerce.number().int().max(100).default(10) }) }), (req, res) => {
        res.json({ query: req.query as unknown });
      });
    }).app;
    expect((await request(server).get('/search?limit=5')).body).toEqual({ query: { limit: 5 } });
    expect((await request(server).get('/search')).body).toEqual({ query: { limit: 10 } });
    const bad = await request(server).get('/search?limit=500');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ message: expect.any(String), field: 'limit' }]);
  });

  it('reports the problems of body and params together', async () => {
    const server = middlewareApp((a) => {
      a.post('/orders/:id', validateRequest({ params: z.object({ id: z.uuid() }), body: z.object({ ticketId: z.string() }) }), (_req, res) => { res.end(); });
    }).app;
    const res = await request(server).post('/orders/42').send({});
    expect(res.status).toBe(400);
    expect(res.body.errors.map((error: { field?: string }) => error.field).sort()).toEqual(['id', 'ticketId']);
  });

  it('refuses to build without a schema (TypeError)', () => {
    expect(() => validateRequest({})).toThrow(TypeError);
  });
});

describe('validateRequest types', () => {
  it('hands the parsed types to the handlers after it, so they need no casts', () => {
    const router = Router();
    const body = z.object({ ticketId: z.string(), count: z.coerce.number() });
    const params = z.object({ id: uuidParam('bad id') });
    const query = z.object({ banned: z.enum(['true', 'false']).optional().transform((value) => value === 'true') });
    router.post('/x/:id', validateRequest({ body, params, query }), (req) => {
      expectTypeOf(req.body).toEqualTypeOf<{ ticketId: string; count: number }>();
      expectTypeOf(req.params).toEqualTypeOf<{ id: string }>();
      expectTypeOf(req.query).toEqualTypeOf<{ banned: boolean }>();
      expectTypeOf(signedInUser(req)).toEqualTypeOf<UserPayload>();
    });
    router.post('/y', validateRequest({ body }), (req) => {
      expectTypeOf(req.body.count).toBeNumber();
    });
    expect(router.stack).toHaveLength(2);
  });
});

describe('signedInUser', () => {
  it('answers 401, not a crash, on a route that forgot requireAuth', async () => {
    const { app } = middlewareApp((a) => a.get('/me', (req, res) => {
      res.json(signedInUser(req));
    }));
    const res = await request(app).get('/me');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ message: 'Not authenticated' }] });
  });

  it('never hands over a signed-in user that requireAuth did not check (a banned one, on a route that forgot it)', async () => {
    const { app } = middlewareApp((a) => a.get('/me', (req, res) => {
      res.json(signedInUser(req));
    }));
    const res = await request(app).get('/me').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(401);
  });

  it('hands over the user requireAuth let through', async () => {
    const { app } = middlewareApp((a) => a.get('/me', requireAuth({ bans: { isBanned: () => false, isRevoked: () => false } }), (req, res) => {
      res.json(signedInUser(req));
    }));
    const res = await request(app).get('/me').set('Authorization', `Bearer ${signAt(T0)}`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(ALICE.id);
  });
});

describe('validated', () => {
  it('returns the parsed value, or throws the 400 validateRequest answers, naming each field', () => {
    const schema = z.object({ refreshToken: z.string({ error: 'refreshToken is required' }).trim() });
    expect(validated(schema, { refreshToken: ' abc ' })).toEqual({ refreshToken: 'abc' });
    let thrown: unknown;
    try {
      validated(schema, { refreshToken: 42 });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect((thrown as HttpError).status).toBe(400);
    expect((thrown as HttpError).items).toEqual([{ message: 'refreshToken is required', field: 'refreshToken' }]);
  });
});
