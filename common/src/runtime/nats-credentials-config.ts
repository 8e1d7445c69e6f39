import { readFileSync } from 'node:fs';
import { nkeys } from '@nats-io/transport-node';
import { ConfigError, configReader, type Env } from './config-reader.js';

/**
 * The NKey user seed in the file `NATS_NKEY_SEED_FILE` names, checked whole (a user seed, `SU...`,
 * with a valid checksum) so that a wrong file stops the service at startup instead of leaving it
 * unable to sign in to NATS. `undefined` when the variable is unset. Credentials in `natsUrl` too
 * are refused: which of the two would count is not something to guess.
 */
export function readNkeySeed(env: Env, natsUrl: string): string | undefined {
  const path = configReader(env).optional('NATS_NKEY_SEED_FILE');
  if (path === undefined) return undefined;
  const urls = natsUrl.split(',').map((item) => new URL(item.trim()));
  if (urls.some((url) => url.username !== '' || url.password !== '')) {
    throw new ConfigError('NATS_NKEY_SEED_FILE', 'is set, and NATS_URL holds credentials too: use one of them');
  }
  let seed: string;
  try {
    seed = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError('NATS_NKEY_SEED_FILE', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): ${path}`);
  }
  let publicKey: string;
  try {
    publicKey = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch {
    throw new ConfigError('NATS_NKEY_SEED_FILE', `must hold an NKey seed (SU..., as nk -gen user makes), and ${path} does not`);
  }
  if (!publicKey.startsWith('U')) throw new ConfigError('NATS_NKEY_SEED_FILE', `must hold a user seed (SU...), not another kind of NKey seed: ${path}`);
  return seed;
}
