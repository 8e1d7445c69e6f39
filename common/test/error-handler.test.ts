import express from 'express';
import request from 'supertest';
import { describe, it, expect } from 'vitest';
import { ERROR_CODES, errorHandler, HttpError, NotFoundError, ServiceUnavailableError, ValidationError } from '@ticketing/common';
import { capturingLogger } from '@ticketing/testing';
import { middlewareApp } from './fixtures.js';

function app() {
  return middlewareApp((a) => {
    a.post('/echo', (req, res) => {
      res.json({ body: req.body as unknown });
    });
    a.get('/conflict', () => {
      throw new HttpError('EMAIL_IN_USE');
    });
    a.get('/missing', () => {
      throw new NotFoundError('Order not found');
    });
    a.get('/invalid', () => {
      throw new ValidationError([{ message: 'Required', field: 'ticketId' }, { message: 'Too long' }]);
    });
    a.get('/crash', () => {
      throw new Error('secret internals');
    });
    a.get('/async-crash', async () => {
      await Promise.resolve();
      throw new TypeError('secret internals, async');
    });
    a.get('/thrown-string', () => {
      throw 'secret internals as a string';
    });
    a.get('/down', () => {
      throw new ServiceUnavailableError({ message: 'Database unavailable', cause: new Error('connect ECONNREFUSED') });
    });
  });
}

describe('errorHandler', () => {
  it('keeps the status and body of an HttpError', async () => {
    const { app: server } = app();
    const conflict = await request(server).get('/conflict');
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual({ errors: [{ message: 'Email in use' }] });
    const missing = await request(server).get('/missing');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [{ message: 'Order not found' }] });
    const invalid = await request(server).get('/invalid');
    expect(invalid.status).toBe(400);
    expect(invalid.body).toEqual({ errors: [{ message: 'Required', field: 'ticketId' }, { message: 'Too long' }] });
  });

  it('answers a 503 HttpError with its status and logs its cause as a warning', async () => {
    const { app: server, lines } = app();
    const res = await request(server).get('/down');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ errors: [{ message: 'Database unavailable' }] });
    expect(lines()).toContainEqual(expect.objectContaining({ level: 40, msg: 'Database unavailable' }));
  });

  it('answers 400 Malformed JSON body to broken JSON', async () => {
    const { app: server, lines } = app();
    const res = await request(server).post('/echo').set('Content-Type', 'application/json').send('{"email": ');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ errors: [{ message: 'Malformed JSON body' }] });
    expect(lines().filter((line) => (line.level as number) >= 50)).toEqual([]);
  });

  it('answers 413 to a body over the limit', async () => {
    const { app: server } = app();
    const res = await request(server).post('/echo').send({ padding: 'x'.repeat(17 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ errors: [{ message: 'Request body too large' }] });
  });

  it('accepts a body just under the limit', async () => {
    const { app: server } = app();
    const res = await request(server).post('/echo').send({ padding: 'x'.repeat(15 * 1024) });
    expect(res.status).toBe(200);
  });

  it('answers 415 to a body in a charset other than UTF-8', async () => {
    const { app: server } = app();
    const res = await request(server).post('/echo').set('Content-Type', 'application/json; charset=klingon').send('{}');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ errors: [{ message: 'Request body must be UTF-8 JSON' }] });
  });

  it('answers 415 to an unknown Content-Encoding and 400 to a body that is not the gzip it claims', async () => {
    const { app: server, lines } = app();
    const unknown = await request(server).post('/echo').set('Content-Type', 'application/json').set('Content-Encoding', 'snappy').send('{}');
    expect(unknown.status).toBe(415);
    const broken = await request(server).post('/echo').set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{"not":"gzip"}');
    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({ errors: [{ message: 'Bad request' }] });
    expect(lines().filter((line) => (line.level as number) >= 50)).toEqual([]);
  });

  it.each([
    ['a 404 status', Object.assign(new Error('upstream said not found'), { status: 404 })],
    ['a 400 statusCode', Object.assign(new Error('some library\'s bad request'), { statusCode: 400 })],
    ['an http-errors-like 401 with expose', Object.assign(new Error('token service refused'), { status: 401, expose: true })],
    ['a body-parser-like type outside the parser', Object.assign(new Error('parse failed elsewhere'), { status: 400, type: 'entity.parse.failed' })],
  ])('answers 500 and logs an error carrying %s that is not an HttpError', async (_name, error) => {
    const { logger, lines } = capturingLogger();
    const server = express();
    server.get('/lib', () => {
      throw error;
    });
    server.use(errorHandler({ logger }));
    const res = await request(server).get('/lib');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: [{ message: 'Something went wrong' }] });
    expect(lines()).toContainEqual(expect.objectContaining({ level: 50, msg: 'unhandled error' }));
  });

  it.each(['/crash', '/async-crash', '/thrown-string'])('answers 500 with no internals to %s, logging the error at level error', async (path) => {
    const { app: server, lines } = app();
    const res = await request(server).get(path);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errors: [{ message: 'Something went wrong' }] });
    expect(res.text).not.toContain('secret internals');
    const errors = lines().filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: 'unhandled error', method: 'GET', path });
    expect(JSON.stringify(errors[0])).toContain('secret internals');
  });

  it('has a status and message for every code in the table', () => {
    for (const [code, { status, message }] of Object.entries(ERROR_CODES)) {
      const err = new HttpError(code as keyof typeof ERROR_CODES);
      expect(err.status).toBe(status);
      expect(err.code).toBe(code);
      expect(err.toBody()).toEqual({ errors: [{ message }] });
    }
  });
});
