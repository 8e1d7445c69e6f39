import { KeyObject } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { createTokenKey, MIN_JWT_KEY_BYTES } from '@ticketing/common';

describe('createTokenKey', () => {
  it('turns a 32-byte string into a secret KeyObject', () => {
    const key = createTokenKey('x'.repeat(32));
    expect(key).toBeInstanceOf(KeyObject);
    expect(key.type).toBe('secret');
    expect(key.symmetricKeySize).toBe(32);
  });

  it('accepts a Buffer', () => {
    expect(createTokenKey(Buffer.alloc(48, 7)).symmetricKeySize).toBe(48);
  });

  it('refuses a key shorter than 32 bytes with a TypeError', () => {
    expect(MIN_JWT_KEY_BYTES).toBe(32);
    expect(() => createTokenKey('x'.repeat(31))).toThrow(TypeError);
    expect(() => createTokenKey('x'.repeat(31))).toThrow(/at least 32 bytes, got 31/);
    expect(() => createTokenKey('')).toThrow(TypeError);
    expect(() => createTokenKey(Buffer.alloc(16))).toThrow(TypeError);
  });

  it('counts bytes, not characters', () => {
    // 16 two-byte characters are 32 bytes.
    expect(createTokenKey('é'.repeat(16)).symmetricKeySize).toBe(32);
    expect(() => createTokenKey('é'.repeat(15))).toThrow(/got 30/);
  });
});
