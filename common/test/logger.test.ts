import { describe, expect, it } from 'vitest';
import { loggedError } from '../src/runtime/logger.js';

describe('loggedError', () => {
  it('keeps type, message, code, stack, constraint and table, and drops a query\'s parameters and quoted values', () => {
    const err = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
      code: '23505', constraint: 'users_email_key', table: 'users',
      params: ['alice@example.com', 'scrypt$secret-hash'], detail: 'Key (email)=(alice@example.com) already exists.', query: 'INSERT ...',
    });
    const logged = loggedError(new Error('signup failed', { cause: err })) as Record<string, unknown>;
    expect(logged).toMatchObject({ type: 'Error', message: 'signup failed', cause: { code: '23505', constraint: 'users_email_key', table: 'users' } });
    expect(JSON.stringify(logged)).not.toMatch(/alice|secret-hash|INSERT/);
  });

  it('passes what is not an Error through', () => {
    expect(loggedError('plain')).toBe('plain');
  });
});
