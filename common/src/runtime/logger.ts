import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * A JSON logger for one service. Secrets are redacted wherever they appear by name.
 *
 * @example
 * const logger = createLogger({ service: 'orders', level: config.logLevel });
 * logger.info({ port }, 'listening');
 */
export function createLogger(options: { service: string; level?: LevelWithSilent }): Logger {
  return pino({
    name: options.service,
    level: options.level ?? 'info',
    redact: {
      paths: ['password', '*.password', 'jwt', '*.jwt', 'token', '*.token', 'jwtKey', '*.jwtKey', 'req.headers.cookie', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
