import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A logger that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * A logger that keeps every line (as parsed JSON) so a test can assert on what was logged.
 *
 * @example
 * const { logger, lines } = capturingLogger();
 * expect(lines().some((line) => line.msg === 'token refused')).toBe(true);
 */
export function capturingLogger(level: pino.LevelWithSilent = 'debug'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const captured: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') captured.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines: () => [...captured] };
}
