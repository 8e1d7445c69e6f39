import { describe, it, expect } from 'vitest';
import { capturingLogger, silentLogger, waitFor } from '@ticketing/testing';

describe('waitFor', () => {
  it('returns the first truthy value of the condition', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('keeps polling through a throwing condition', async () => {
    let calls = 0;
    const value = await waitFor(async () => {
      calls += 1;
      if (calls < 2) throw new Error('not yet');
      return 'ok';
    }, { intervalMs: 1 });
    expect(value).toBe('ok');
  });

  it('throws after the timeout, naming what it waited for, with the last error as cause', async () => {
    const err: unknown = await waitFor(() => { throw new Error('still down'); }, { timeoutMs: 30, intervalMs: 5, what: 'nats' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('timed out after 30ms waiting for nats');
    expect(((err as Error).cause as Error).message).toBe('still down');
  });
});

describe('loggers', () => {
  it('capturingLogger keeps each line as parsed JSON, from its level up', () => {
    const { logger, lines } = capturingLogger('info');
    logger.debug('hidden');
    logger.info({ userId: 'u1' }, 'shown');
    logger.error('bad');
    expect(lines().map((line) => [line.level, line.msg])).toEqual([[30, 'shown'], [50, 'bad']]);
    expect(lines()[0]).toMatchObject({ userId: 'u1' });
  });

  it('silentLogger logs nothing', () => {
    expect(silentLogger().isLevelEnabled('fatal')).toBe(false);
  });
});
