import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** OWASP's scrypt parameters for password storage: N=2^17, r=8, p=1 (128 MiB, ~0.4 s here). */
export const OWASP_SCRYPT = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is below OWASP's parameters.
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
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
 * Password hashing with scrypt at OWASP's parameters.
 *
 * @example
 * const hasher = createPasswordHasher();
 * const stored = await hasher.hash('correct horse');
 * await hasher.verify('correct horse', stored); // true
 */
export function createPasswordHasher(params: { N: number; r: number; p: number } = OWASP_SCRYPT): PasswordHasher {
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
      decoy ??= hasher.hash(randomBytes(SALT_BYTES).toString('base64'));
      await hasher.verify(password, await decoy);
      return false;
    },
  };
  return hasher;
}
