import { describe, it, expect } from 'vitest';
import { parseDuration } from '@ticketing/common';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0s', 0],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    [' 15m ', 900_000],
    ['015m', 900_000],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['a bare number', '15'],
    ['empty', ''],
    ['a unit alone', 'm'],
    ['a fraction', '1.5h'],
    ['a negative', '-5s'],
    ['an upper-case unit', '15M'],
    ['an unknown unit', '2w'],
    ['a space inside', '15 m'],
    ['two parts', '1h30m'],
    ['words', 'fifteen minutes'],
  ])('refuses %s with a TypeError', (_name, text) => {
    expect(() => parseDuration(text)).toThrow(TypeError);
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });

  it('refuses a duration too large to count in ms exactly', () => {
    expect(() => parseDuration('9007199254740992ms')).toThrow(/too large/);
    expect(() => parseDuration('999999999999999d')).toThrow(TypeError);
    expect(parseDuration('9007199254740991ms')).toBe(Number.MAX_SAFE_INTEGER);
  });
});
