import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';

/** A fresh ES256 (EC P-256) key pair as PEM: `JWT_PRIVATE_KEY` for auth, `JWT_PUBLIC_KEYS` for everyone. */
export function createEs256KeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A NATS NKey user: the public key the server config names, and the seed, also written to `seedFile` (mode 0600). */
export interface NatsUser {
  publicKey: string;
  seed: string;
  seedFile: string;
}

/**
 * A fresh NATS NKey user whose seed is written to `<dir>/<name>.nk`, for `NATS_NKEY_SEED_FILE`.
 *
 * @example
 * const orders = createNatsUser(dir, 'orders');
 * await startNatsServer({ config: conf, env: { NATS_ORDERS_NKEY: orders.publicKey } });
 */
export function createNatsUser(dir: string, name: string): NatsUser {
  const user = nkeys.createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  const seedFile = join(dir, `${name}.nk`);
  writeFileSync(seedFile, `${seed}\n`, { mode: 0o600 });
  return { publicKey: user.getPublicKey(), seed, seedFile };
}
