import { pino, type Logger, type LevelWithSilent } from 'pino';
import { prettyDestination } from './pretty-log.js';

export type { Logger };

/** `json`: one JSON object a line, for machines; `pretty`: lines people read, for a terminal. */
export type LogFormat = 'json' | 'pretty';

/** The names under which a secret may appear in a log line; their values are replaced. */
const REDACTED_PATHS = [
  'password', '*.password', 'jwt', '*.jwt', 'token', '*.token', 'jwtKey', '*.jwtKey', 'refreshToken', '*.refreshToken',
  'req.headers.cookie', 'req.headers.authorization', 'headers.cookie', 'headers.authorization',
];

/**
 * An error as logs show it: its type, message, code and stack, and the constraint or table a
 * database names; never the parameters of the query that failed, nor the values a database quotes
 * (`detail`), which hold what users typed.
 */
export function loggedError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const { code, constraint, table } = err as Error & { code?: unknown; constraint?: unknown; table?: unknown };
  const cause = (err as { cause?: unknown }).cause;
  return {
    type: err.constructor.name,
    message: err.message,
    stack: err.stack,
    ...(code === undefined ? {} : { code }),
    ...(constraint === undefined ? {} : { constraint }),
    ...(table === undefined ? {} : { table }),
    ...(cause === undefined ? {} : { cause: loggedError(cause) }),
  };
}

/**
 * A logger for one service: JSON lines with ISO times, or pretty lines when `format` is `pretty`
 * (coloured when `colour` is set). Secrets are redacted wherever they appear by name.
 *
 * @example
 * const logger = createLogger({ service: 'orders', level: config.logLevel, format: config.logFormat });
 * logger.info({ port }, 'listening');
 */
export function createLogger(options: { service: string; level?: LevelWithSilent; format?: LogFormat; colour?: boolean }): Logger {
  const settings = {
    name: options.service,
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: loggedError },
  };
  if (options.format === 'pretty') return pino(settings, prettyDestination(process.stdout, { colour: options.colour === true }));
  return pino(settings);
}
