import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats, ensureAuthStream } from '@ticketing/common/events';
import { silentLogger } from './loggers.js';

/**
 * Creates the `AUTH` stream on the nats-server at `url` as auth would at its start (a 24 h window),
 * for tests of services that wait for auth to make it. Credentials may be in the URL, or an NKey
 * seed given.
 *
 * @example
 * await createAuthStream(nats.url);
 */
export async function createAuthStream(url: string, options: { nkeySeed?: string } = {}): Promise<void> {
  const nats = connectNats({ url, nkeySeed: options.nkeySeed, name: 'test-auth-stream', logger: silentLogger() });
  try {
    await ensureAuthStream(await jetstreamManager(await nats.connection()), { windowMs: 15 * 60_000 + 30_000 });
  } finally {
    await nats.close();
  }
}
