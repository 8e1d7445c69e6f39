import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ServiceUnavailableError } from '@ticketing/common/http';

/** OWASP's scrypt parameters for password storage: N=2^17, r=8, p=1 (128 MiB, ~0.4 s here). */
export const OWASP_SCRYPT = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

const KEY_BYTES = 32;
const SALT_BYTES = 16;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Derives a key of `keyBytes` from the password and salt: scrypt, unless a test gives another. */
export type DeriveKey = (password: string, salt: Buffer, params: ScryptParams, keyBytes: number) => Promise<Buffer>;

export interface PasswordHasherLimits {
  /** Derivations running at once (each takes 128 * N * r bytes: 128 MiB at OWASP's). Default 2. */
  maxConcurrent?: number;
  /** Derivations waiting for one of those slots; past that a call fails at once with a 503. Default 32. */
  maxQueued?: number;
  /** Replaces scrypt, for tests that need to hold a derivation open. */
  derive?: DeriveKey;
}

function scryptKey(password: string, salt: Buffer, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is below OWASP's parameters.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function integerAtLeast(min: number, name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new TypeError(`createPasswordHasher: ${name} must be an integer of at least ${min}, got ${value}`);
  return value;
}

/**
 * Runs at most `maxConcurrent` tasks at once and holds at most `maxQueued` more, first come first
 * served; a task beyond both is refused at once, so a burst of sign-ins cannot pile up memory.
 */
function concurrencyGate(maxConcurrent: number, maxQueued: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (running < maxConcurrent) {
      running += 1;
    } else {
      if (queue.length >= maxQueued) throw new ServiceUnavailableError({ message: 'Too many sign-ins at once; try again shortly' });
      // The slot is handed over by the task that ends, so `running` already counts this one.
      await new Promise<void>((resolve) => queue.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = queue.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}

export interface PasswordHasher {
  /** `scrypt$N$r$p$salt$key`: the parameters travel with the hash, so they can be raised later. */
  hash(password: string): Promise<string>;
  /** Constant-time comparison; false (never a throw) for a stored value it cannot parse. */
  verify(password: string, stored: string): Promise<boolean>;
  /** Costs what `verify` costs, so that an unknown account takes as long as a wrong password. */
  verifyNothing(password: string): Promise<false>;
}

/**
 * Password hashing with scrypt at OWASP's parameters. Each derivation holds 128 * N * r bytes, so
 * at most `limits.maxConcurrent` run at once and `limits.maxQueued` wait; beyond that `hash`,
 * `verify` and `verifyNothing` reject at once with a 503 `ServiceUnavailableError`.
 *
 * @example
 * const hasher = createPasswordHasher();
 * const stored = await hasher.hash('correct horse');
 * await hasher.verify('correct horse', stored); // true
 */
export function createPasswordHasher(params: ScryptParams = OWASP_SCRYPT, limits: PasswordHasherLimits = {}): PasswordHasher {
  const gate = concurrencyGate(
    integerAtLeast(1, 'maxConcurrent', limits.maxConcurrent ?? 2),
    integerAtLeast(0, 'maxQueued', limits.maxQueued ?? 32),
  );
  const deriveKey = limits.derive ?? scryptKey;
  const derive = (password: string, salt: Buffer, keyParams: ScryptParams) => gate(() => deriveKey(password, salt, keyParams, KEY_BYTES));
  let decoy: Promise<string> | undefined;
  const hasher: PasswordHasher = {
    async hash(password) {
      const salt = randomBytes(SALT_BYTES);
      const key = await derive(password, salt, params);
      return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), key.toString('base64')].join('$');
    },
    async verify(password, stored) {
      const parts = stored.split('$');
      if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
      const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
      if (![N, r, p].every(Number.isSafeInteger)) return false;
      const salt = Buffer.from(parts[4]!, 'base64');
      const expected = Buffer.from(parts[5]!, 'base64');
      if (expected.length !== KEY_BYTES) return false;
      const actual = await derive(password, salt, { N, r, p });
      return timingSafeEqual(actual, expected);
    },
    async verifyNothing(password) {
      // A decoy refused for a full queue is made again next time rather than kept as a rejection.
      decoy ??= hasher.hash(randomBytes(SALT_BYTES).toString('base64')).catch((err: unknown) => {
        decoy = undefined;
        throw err;
      });
      await hasher.verify(password, await decoy);
      return false;
    },
  };
  return hasher;
}
