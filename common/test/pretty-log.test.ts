import { describe, it, expect } from 'vitest';
import { prettyLine } from '../src/runtime/pretty-log.js';

const at = new Date(2030, 0, 1, 9, 5, 7, 42).toISOString();
const line = (entry: Record<string, unknown>) => prettyLine(JSON.stringify({ level: 30, time: at, pid: 1, hostname: 'h', name: 'auth', ...entry }), { colour: false });

describe('prettyLine', () => {
  it('shows the local time, level, service and message, then the other fields', () => {
    expect(line({ msg: 'listening', port: 3000, production: false })).toBe('09:05:07.042 INFO  auth listening  port=3000 production=false\n');
  });

  it('does not repeat in a request line\'s fields what its message says', () => {
    expect(line({ msg: 'GET /api/orders/:id 200', method: 'GET', route: '/api/orders/:id', path: '/api/orders/1', status: 200, ms: 1.5, userId: null }))
      .toBe('09:05:07.042 INFO  auth GET /api/orders/:id 200  path=/api/orders/1 ms=1.5 userId=null\n');
    expect(line({ msg: 'GET /api/orders 200', method: 'GET', route: '/api/orders', path: '/api/orders', status: 200 })).toBe('09:05:07.042 INFO  auth GET /api/orders 200\n');
  });

  it('marks an audit line with its event', () => {
    expect(line({ level: 30, msg: 'admin banned a user', audit: 'user.banned', reason: 'spam and more' }))
      .toBe('09:05:07.042 INFO  auth AUDIT user.banned admin banned a user  reason="spam and more"\n');
  });

  it('quotes values that could pass for other fields or lines, and writes objects as JSON', () => {
    const text = line({ level: 40, msg: 'x', origin: 'evil" level=60 msg="forged', note: 'two\nlines', query: { limit: 1 } });
    expect(text).toBe('09:05:07.042 WARN  auth x  origin="evil\\" level=60 msg=\\"forged" note="two\\nlines" query={"limit":1}\n');
    expect(text.split('\n')).toHaveLength(2);
  });

  it('writes every character a terminal could act on as \\uXXXX: ESC, CSI (C1), OSC, BEL, DEL, bidi overrides', () => {
    const hostile = ['\u001b[2K\u001b[1G', '\u009b2J', '\u009d0;pwned\u009c', '\u0007', '\u007f', '\u202eevil', '\u2028'];
    for (const value of hostile) {
      const text = line({ level: 30, msg: `m${value}`, audit: `a${value}`, [`k${value}`]: `v${value}`, err: { message: value, stack: `Error\n at ${value}` } });
      // eslint-disable-next-line no-control-regex -- control characters are what it looks for
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      expect(text.split('\n').length).toBeLessThanOrEqual(3);
    }
    expect(line({ msg: 'x', reason: 'a\u001bb' })).toBe('09:05:07.042 INFO  auth x  reason="a\\u001bb"\n');
  });

  it('puts an error\'s message on the line and its stack below it', () => {
    const text = line({ level: 50, msg: 'unhandled error', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at a (x.js:1:1)\n    at b (y.js:2:2)' } });
    expect(text).toBe('09:05:07.042 ERROR auth unhandled error  err=boom\n    at a (x.js:1:1)\n    at b (y.js:2:2)\n');
  });

  it('colours the level when asked', () => {
    expect(prettyLine(JSON.stringify({ level: 50, time: at, msg: 'x' }), { colour: true })).toContain('\u001b[31mERROR\u001b[0m');
  });

  it('passes a line that is not JSON through', () => {
    expect(prettyLine('not json', { colour: false })).toBe('not json');
  });
});
