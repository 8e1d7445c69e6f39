import { parseDuration } from './duration.js';

/** A missing or invalid setting; its message is one line that names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed settings from an environment. Each reader throws {@link ConfigError} naming the
 * variable; an empty string counts as unset.
 *
 * @example
 * const read = configReader(process.env);
 * const port = read.integer('PORT', { default: 3000, min: 1, max: 65535 });
 */
export function configReader(env: Env) {
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    string(name: string, options: { default?: string } = {}): string {
      const value = raw(name) ?? options.default;
      if (value === undefined) throw new ConfigError(name, 'is required');
      return value;
    },
    optional(name: string): string | undefined {
      return raw(name);
    },
    integer(name: string, options: { default: number; min?: number; max?: number }): number {
      const text = raw(name);
      if (text === undefined) return options.default;
      const value = Number(text);
      const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new ConfigError(name, `must be an integer, got ${JSON.stringify(text)}`);
      if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
      return value;
    },
    durationMs(name: string, options: { default: string; minMs?: number; maxMs?: number }): number {
      const text = raw(name) ?? options.default;
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch {
        throw new ConfigError(name, `must be a duration such as 30s, 15m or 24h, got ${JSON.stringify(text)}`);
      }
      if (options.minMs !== undefined && ms < options.minMs) throw new ConfigError(name, `must be at least ${options.minMs}ms`);
      if (options.maxMs !== undefined && ms > options.maxMs) throw new ConfigError(name, `must be at most ${options.maxMs}ms, got ${JSON.stringify(text)}`);
      return ms;
    },
    secret(name: string, options: { minBytes: number }): string {
      const value = env[name];
      if (value === undefined || value === '') throw new ConfigError(name, 'is required (no default for secrets)');
      // Kept as given (spaces inside a secret count), but one of nothing but blanks is a mistake.
      if (value.trim() === '') throw new ConfigError(name, 'must not be blank');
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes < options.minBytes) throw new ConfigError(name, `must be at least ${options.minBytes} bytes, got ${bytes}`);
      return value;
    },
    url(name: string, options: { protocols: readonly string[]; default?: string }): string | undefined {
      const text = raw(name) ?? options.default;
      if (text === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new ConfigError(name, 'must be a URL');
      }
      if (!options.protocols.includes(url.protocol)) {
        throw new ConfigError(name, `must use ${options.protocols.join(' or ')}, got ${url.protocol}`);
      }
      return text;
    },
    /** Comma-separated URLs (the nodes of a cluster), each with one of `protocols`; kept as given. */
    urls(name: string, options: { protocols: readonly string[]; default: string }): string {
      const text = raw(name) ?? options.default;
      const items = text.split(',').map((item) => item.trim());
      if (items.some((item) => item === '')) throw new ConfigError(name, 'must list URLs separated by commas, with none empty');
      for (const [index, item] of items.entries()) {
        let url: URL;
        try {
          url = new URL(item);
        } catch {
          throw new ConfigError(name, `must list URLs, and one is not a URL (entry ${index + 1})`);
        }
        if (!options.protocols.includes(url.protocol)) {
          throw new ConfigError(name, `must use ${options.protocols.join(' or ')}, got ${url.protocol}`);
        }
      }
      return items.join(',');
    },
    list(name: string): string[] {
      return (raw(name) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
    },
    /** Comma-separated web origins (`https://app.example.com`), each in the form a browser sends. */
    origins(name: string): string[] {
      return this.list(name).map((item) => {
        let url: URL;
        try {
          url = new URL(item);
        } catch {
          throw new ConfigError(name, `must list origins such as https://app.example.com, got ${JSON.stringify(item)}`);
        }
        const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
        if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !bare) {
          throw new ConfigError(name, `must list origins (scheme://host[:port], nothing after), got ${JSON.stringify(item)}`);
        }
        return url.origin;
      });
    },
    oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
      const value = raw(name) ?? fallback;
      if (!(choices as readonly string[]).includes(value)) throw new ConfigError(name, `must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
      return value as T;
    },
  };
}
