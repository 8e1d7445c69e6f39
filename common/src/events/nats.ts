import { connect, nkeyAuthenticator, type NatsConnection, type Status } from '@nats-io/transport-node';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { Gauge, type Registry } from 'prom-client';
import { AUTH_STREAM, Subjects } from './auth-events.js';
import type { Logger } from 'pino';

export type { NatsConnection };

/** A connection that is made in the background, retried forever, and reconnects by itself. */
export interface NatsClient {
  /** Resolves once connected (at once when already connected); rejects after `close()`. */
  connection(): Promise<NatsConnection>;
  isConnected(): boolean;
  /** Calls `listener` after each reconnect (not the first connect); returns a function that removes it. */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

export interface ConnectNatsOptions {
  /**
   * The server, with a user and password (or a token) in it if it takes those; or the nodes of a
   * cluster separated by commas, each with the same credentials. The client fails over between them.
   */
  url: string;
  /**
   * An NKey user seed (`SU...`, see `NATS_NKEY_SEED_FILE`) to sign the server's challenge with:
   * the seed never leaves this process. Not together with credentials in `url`.
   */
  nkeySeed?: string;
  /**
   * Names the client in the server's monitoring, and its inbox: replies come to
   * `_INBOX_<name>.>`, the one subject a service's NATS user may subscribe to under
   * `nats/nats-server.conf`, so no service reads another's replies (characters other than letters,
   * digits, `-` and `_` become `_`).
   */
  name: string;
  logger: Logger;
  /** Where to register the `nats_connected` gauge. */
  registry?: Registry;
  /** Delay between attempts while the server cannot be reached, in ms. */
  retryDelayMs?: number;
}

/** A delay that `cancel()` ends at once. */
function cancellableDelay(ms: number): { done: Promise<void>; cancel(): void } {
  let cancel = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    cancel = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, cancel };
}

/**
 * The servers to dial and the credentials in a NATS URL, or several separated by commas (the nodes
 * of a cluster: `nats://a:4222,nats://b:4222`), with a user and password (`nats://user:password@host:4222`)
 * or a token (`nats://token@host:4222`) that the client does not read from a URL itself, and the
 * URLs as logs may show them: without a password or token. Every URL must carry the same credentials.
 */
function natsTarget(urls: string): { servers: string[]; credentials: { user?: string; pass?: string; token?: string }; shown: string } {
  const targets = urls.split(',').map((url) => url.trim()).filter((url) => url !== '').map((url) => {
    const parsed = new URL(url);
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    const server = `${parsed.protocol}//${parsed.host}`;
    if (user === '') return { server, credentials: {}, shown: server };
    if (pass === '') return { server, credentials: { token: user }, shown: `${parsed.protocol}//***@${parsed.host}` };
    return { server, credentials: { user, pass }, shown: `${parsed.protocol}//${parsed.username}:***@${parsed.host}` };
  });
  if (targets.length === 0) throw new TypeError('connectNats: url names no server');
  const credentials = JSON.stringify(targets[0]!.credentials);
  if (targets.some((target) => JSON.stringify(target.credentials) !== credentials)) {
    throw new TypeError('connectNats: every server in url must carry the same credentials');
  }
  return { servers: targets.map((target) => target.server), credentials: targets[0]!.credentials, shown: targets.map((target) => target.shown).join(',') };
}

/** The inbox prefix of a client named `name`: `_INBOX_<name>`, as one subject token. */
export function inboxPrefixOf(name: string): string {
  return `_INBOX_${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/**
 * Connects to NATS without ever blocking or failing the caller: it keeps trying until it gets
 * through, then the client reconnects by itself forever. State changes are logged and exported as
 * the `nats_connected` gauge, because a service runs on (verifying tokens locally) while NATS is down.
 *
 * @example
 * const nats = connectNats({ url: config.natsUrl, name: 'orders', logger, registry: metrics.registry });
 * const nc = await nats.connection();
 */
export function connectNats(options: ConnectNatsOptions): NatsClient {
  const { name, logger } = options;
  const target = natsTarget(options.url);
  if (options.nkeySeed !== undefined && Object.keys(target.credentials).length > 0) {
    throw new TypeError('connectNats: give an nkeySeed or credentials in the url, not both');
  }
  const seed = options.nkeySeed === undefined ? undefined : new TextEncoder().encode(options.nkeySeed);
  const authentication = seed === undefined ? target.credentials : { authenticator: nkeyAuthenticator(seed) };
  const inboxPrefix = inboxPrefixOf(name);
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  let current: NatsConnection | undefined;
  let connected = false;
  let closed = false;
  const pauses = new Set<{ cancel(): void }>();
  const waiters: { resolve(nc: NatsConnection): void; reject(err: Error): void }[] = [];
  const reconnectListeners = new Set<() => void>();

  if (options.registry) {
    new Gauge({
      name: 'nats_connected',
      help: '1 while connected to NATS, 0 while not (the service still verifies tokens locally)',
      registers: [options.registry],
      collect() {
        this.set(connected ? 1 : 0);
      },
    });
  }

  function onStatus(status: Status): void {
    if (status.type === 'disconnect') {
      connected = false;
      logger.warn({ server: status.server }, 'NATS connection lost; reconnecting (tokens are still verified locally)');
    } else if (status.type === 'reconnect') {
      connected = true;
      logger.info({ server: status.server }, 'NATS reconnected');
      for (const listener of reconnectListeners) {
        // One listener failing must not keep the others from hearing of the reconnect.
        try {
          listener();
        } catch (err) {
          logger.error({ err }, 'NATS reconnect listener failed');
        }
      }
    } else if (status.type === 'error') {
      logger.warn({ err: status.error }, 'NATS error');
    }
  }

  /** A pause between attempts that `close()` ends at once. */
  async function pauseBeforeRetry(): Promise<void> {
    const delay = cancellableDelay(retryDelayMs);
    pauses.add(delay);
    await delay.done;
    pauses.delete(delay);
  }

  /** Follows the connection's status until it closes (restarted by `keepRunning` should it fail). */
  async function watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) onStatus(status);
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!closed) {
      try {
        let nc = current;
        // A restarted loop finds the connection the last one made still open, and waits out that one.
        if (nc === undefined || nc.isClosed()) {
          nc = await connect({ ...authentication, servers: target.servers, name, inboxPrefix, maxReconnectAttempts: -1, reconnectTimeWait: 500, pingInterval: 10_000 });
          if (closed) {
            await nc.close();
            return;
          }
          current = nc;
          connected = true;
          logger.info({ url: target.shown }, 'NATS connected');
          const watched = nc;
          keepRunning('NATS status watch', () => watch(watched), () => watched.isClosed());
          for (const waiter of waiters.splice(0)) waiter.resolve(nc);
        }
        const err = await nc.closed();
        connected = false;
        if (closed) return;
        logger.error({ err }, 'NATS connection closed; connecting again');
      } catch (err) {
        if (failures++ === 0) logger.warn({ url: target.shown, err: (err as Error).message }, 'NATS unreachable; retrying in the background');
      }
      await pauseBeforeRetry();
    }
  }

  /**
   * Runs `loop` in the background. Should it reject (a status iterator that throws, a logger that
   * fails), the error is logged and the loop started again after a pause, unless the client (or
   * what `done` says) has ended: nothing escapes as an unhandled rejection, and reconnects are
   * still handled. A status that came while the loop was down is not seen again.
   */
  function keepRunning(what: string, loop: () => Promise<void>, done: () => boolean = () => false): void {
    loop().catch(async (err: unknown) => {
      if (closed || done()) return;
      logger.error({ err }, `${what} failed; starting it again`);
      await pauseBeforeRetry();
      if (!closed && !done()) keepRunning(what, loop, done);
    }).catch((err: unknown) => {
      // Only the logger itself can get here; stderr is all that is left.
      process.stderr.write(`${name}: ${what} failed: ${String(err)}\n`);
    });
  }
  keepRunning('NATS connect loop', run);

  return {
    connection() {
      if (closed) return Promise.reject(new Error('NATS client closed'));
      if (current !== undefined && !current.isClosed()) return Promise.resolve(current);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    isConnected: () => connected,
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    async close() {
      closed = true;
      for (const delay of pauses) delay.cancel();
      for (const waiter of waiters.splice(0)) waiter.reject(new Error('NATS client closed'));
      connected = false;
      if (current !== undefined && !current.isClosed()) await current.drain().catch(() => current?.close());
    },
  };
}

/** The duplicate window of the `AUTH` stream: a republished event id within it is dropped. */
export const AUTH_DUPLICATE_WINDOW_MS = 2 * 60_000;

/** The smallest `max_age` of the `AUTH` stream; it grows when tokens live longer. */
export const AUTH_MIN_MAX_AGE_MS = 24 * 3_600_000;

const nanos = (ms: number) => ms * 1_000_000;

/**
 * The `AUTH` stream's definition: subjects `auth.>`, file storage, kept for at least
 * `ACCESS_TOKEN_TTL + CLOCK_SKEW` (24 h by default), duplicates dropped within 2 minutes.
 *
 * @example
 * const config = authStreamConfig({ windowMs: config.accessTokenTtlMs + config.clockSkewMs });
 */
export function authStreamConfig(options: { windowMs: number }): Partial<StreamConfig> & { name: string } {
  return {
    name: AUTH_STREAM,
    subjects: [Subjects.All],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(Math.max(AUTH_MIN_MAX_AGE_MS, options.windowMs)),
    duplicate_window: nanos(AUTH_DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  };
}

/**
 * What keeps the `AUTH` stream from holding every ban of the window: a cap on messages or bytes
 * (or per subject) or a discard-new policy would drop bans inside it, only age may retire them; a
 * `max_age` shorter than the window, a different duplicate window, or subjects that miss `auth.>`.
 * Empty when the stream is as designed.
 */
export function authStreamShortfalls(config: StreamConfig, options: { windowMs: number }): string[] {
  const wanted = authStreamConfig(options);
  const shortfalls: string[] = [];
  if (config.max_msgs !== -1 || config.max_bytes !== -1 || (config.max_msgs_per_subject ?? -1) !== -1) shortfalls.push('a cap on messages or bytes');
  if (config.discard !== DiscardPolicy.Old) shortfalls.push('a discard-new policy');
  // 0 is no age limit at all.
  if (config.max_age !== 0 && config.max_age < wanted.max_age!) shortfalls.push(`max_age ${config.max_age / 1e9}s, under ${wanted.max_age! / 1e9}s`);
  if (config.duplicate_window !== wanted.duplicate_window) shortfalls.push(`a duplicate window of ${config.duplicate_window / 1e9}s`);
  if (!config.subjects.includes(Subjects.All)) shortfalls.push(`subjects without ${Subjects.All}`);
  return shortfalls;
}

/**
 * Creates the `AUTH` stream with `replicas` (default 1; 3 on a 3-node cluster), or brings an
 * existing one up to the designed limits and at least that many replicas (never fewer), and
 * resolves with its info. Safe to call from every replica at once. Only auth does this (NATS authorization lets
 * no other service change the stream); the others wait for it with {@link authStreamInfo}.
 *
 * @example
 * await ensureAuthStream(await jetstreamManager(nc), { windowMs });
 */
export async function ensureAuthStream(jsm: JetStreamManager, options: { windowMs: number; replicas?: number }): Promise<StreamInfo> {
  const wanted = { ...authStreamConfig(options), num_replicas: options.replicas ?? 1 };
  let existing = await authStreamInfo(jsm);
  if (existing === undefined) {
    try {
      return await jsm.streams.add(wanted);
    } catch (err) {
      // Another replica made it first (the server says the name is in use or, when both asked at
      // the same moment, that the subjects overlap); fall through and check its limits.
      existing = await authStreamInfo(jsm);
      if (existing === undefined) throw err;
    }
  }
  const { config } = existing;
  const replicas = Math.max(config.num_replicas, wanted.num_replicas);
  if (authStreamShortfalls(config, options).length === 0 && replicas === config.num_replicas) return existing;
  return jsm.streams.update(AUTH_STREAM, {
    ...config,
    num_replicas: replicas,
    max_msgs: -1,
    max_bytes: -1,
    max_msgs_per_subject: -1,
    discard: DiscardPolicy.Old,
    max_age: config.max_age === 0 ? 0 : Math.max(config.max_age, wanted.max_age!),
    duplicate_window: wanted.duplicate_window!,
    // auth.> covers every narrower auth subject, and the server refuses overlapping ones.
    subjects: [Subjects.All, ...config.subjects.filter((subject) => subject !== Subjects.All && !subject.startsWith('auth.'))],
  });
}

/** The `AUTH` stream's info, or `undefined` while it does not exist. */
export async function authStreamInfo(jsm: JetStreamManager): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(AUTH_STREAM);
  } catch (err) {
    if (/stream not found/i.test((err as Error).message)) return undefined;
    throw err;
  }
}
