import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { nkeys } from '@nats-io/transport-node';
import { ConfigError, configReader, loadServiceConfig, readSigningKey, tokenKeyId, type Env } from '@ticketing/common';
import { createEs256KeyPair, createNatsUser } from '@ticketing/testing';

const KEY_32 = 'k'.repeat(32);
const DEFAULTS = { port: 3001, metricsPort: 9301, dataDir: '.data/orders' };

function load(env: Env) {
  return loadServiceConfig(env, DEFAULTS);
}

/** The ConfigError thrown; checks it is one line that starts with the variable's name. */
function configError(variable: string, read: () => unknown): ConfigError {
  let thrown: unknown;
  try {
    read();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  const err = thrown as ConfigError;
  expect(err.variable).toBe(variable);
  expect(err.message.startsWith(`${variable} `)).toBe(true);
  expect(err.message).not.toMatch(/[\r\n]/);
  return err;
}

describe('loadServiceConfig', () => {
  it('applies the defaults when only JWT_KEY is set', () => {
    expect(load({ JWT_KEY: KEY_32 })).toEqual({
      port: 3001,
      metricsPort: 9301,
      production: false,
      trustProxy: 0,
      jwtAlgorithm: 'HS256',
      tokenKeys: { key: expect.any(KeyObject) },
      tokenCacheMax: 10_000,
      accessTokenTtlMs: 900_000,
      clockSkewMs: 30_000,
      databaseUrl: undefined,
      dataDir: '.data/orders',
      natsUrl: 'nats://127.0.0.1:4222',
      natsNkeySeed: undefined,
      banCacheMax: 100_000,
      allowedOrigins: [],
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    expect(load({
      PORT: '8080',
      METRICS_PORT: '9090',
      NODE_ENV: 'production',
      TRUST_PROXY: '1',
      JWT_KEY: KEY_32,
      ACCESS_TOKEN_TTL: '5m',
      CLOCK_SKEW: '10s',
      DATABASE_URL: 'postgresql://app:pw@db:5432/orders',
      DATA_DIR: '/var/lib/orders',
      NATS_URL: 'nats://nats:4222',
      BAN_CACHE_MAX: '500',
      TOKEN_CACHE_MAX: '0',
      ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173',
      LOG_LEVEL: 'debug',
    })).toEqual({
      port: 8080,
      metricsPort: 9090,
      production: true,
      trustProxy: 1,
      jwtAlgorithm: 'HS256',
      tokenKeys: { key: expect.any(KeyObject) },
      tokenCacheMax: 0,
      accessTokenTtlMs: 300_000,
      clockSkewMs: 10_000,
      databaseUrl: 'postgresql://app:pw@db:5432/orders',
      dataDir: '/var/lib/orders',
      natsUrl: 'nats://nats:4222',
      natsNkeySeed: undefined,
      banCacheMax: 500,
      allowedOrigins: ['https://app.example.com', 'http://localhost:5173'],
      logLevel: 'debug',
    });
  });

  it('treats empty strings as unset (defaults apply)', () => {
    const config = load({ JWT_KEY: KEY_32, PORT: '', ACCESS_TOKEN_TTL: '', DATABASE_URL: '', LOG_LEVEL: '  ' });
    expect(config.port).toBe(3001);
    expect(config.accessTokenTtlMs).toBe(900_000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('accepts postgres: URLs and tls: NATS URLs', () => {
    const config = load({ JWT_KEY: KEY_32, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', NATS_URL: 'tls://nats:4222' });
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(config.natsUrl).toBe('tls://nats:4222');
  });

  it('reads LOG_FORMAT (json or pretty; unset leaves the choice to the terminal), and refuses pretty in production', () => {
    expect(load({ JWT_KEY: KEY_32 }).logFormat).toBeUndefined();
    expect(load({ JWT_KEY: KEY_32, LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(load({ JWT_KEY: KEY_32, LOG_FORMAT: 'json', NODE_ENV: 'production' }).logFormat).toBe('json');
    configError('LOG_FORMAT', () => load({ JWT_KEY: KEY_32, LOG_FORMAT: 'fancy' }));
    expect(configError('LOG_FORMAT', () => load({ JWT_KEY: KEY_32, LOG_FORMAT: 'pretty', NODE_ENV: 'production' })).message).toMatch(/must be json in production/);
  });

  it('is production only for NODE_ENV=production', () => {
    expect(load({ JWT_KEY: KEY_32, NODE_ENV: 'development' }).production).toBe(false);
    expect(load({ JWT_KEY: KEY_32, NODE_ENV: 'test' }).production).toBe(false);
    expect(load({ JWT_KEY: KEY_32, NODE_ENV: 'production' }).production).toBe(true);
  });

  it('trusts no proxy unless TRUST_PROXY says how many hops, in production too', () => {
    expect(load({ JWT_KEY: KEY_32, NODE_ENV: 'production' }).trustProxy).toBe(0);
    expect(load({ JWT_KEY: KEY_32, TRUST_PROXY: '0' }).trustProxy).toBe(0);
    expect(load({ JWT_KEY: KEY_32, TRUST_PROXY: 'false' }).trustProxy).toBe(0);
    expect(load({ JWT_KEY: KEY_32, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(load({ JWT_KEY: KEY_32, TRUST_PROXY: '10' }).trustProxy).toBe(10);
    expect(load({ JWT_KEY: KEY_32, NODE_ENV: 'development', TRUST_PROXY: '1' }).trustProxy).toBe(1);
  });

  it('accepts CLOCK_SKEW up to 5 minutes', () => {
    expect(load({ JWT_KEY: KEY_32, CLOCK_SKEW: '5m' }).clockSkewMs).toBe(300_000);
    expect(load({ JWT_KEY: KEY_32, CLOCK_SKEW: '0s' }).clockSkewMs).toBe(0);
  });

  it('gives every allowed origin the form a browser sends', () => {
    expect(load({ JWT_KEY: KEY_32, ALLOWED_ORIGINS: 'HTTPS://App.Example.com:443/,http://localhost:5173' }).allowedOrigins)
      .toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('serves metrics on a port of their own, never on PORT', () => {
    expect(configError('METRICS_PORT', () => load({ JWT_KEY: KEY_32, PORT: '9301' })).message).toMatch(/must differ from PORT/);
    expect(configError('METRICS_PORT', () => load({ JWT_KEY: KEY_32, PORT: '8080', METRICS_PORT: '8080' })).message).toMatch(/must differ from PORT \(8080\)/);
    // Both chosen by the system: they cannot collide.
    expect(load({ JWT_KEY: KEY_32, PORT: '0', METRICS_PORT: '0' }).metricsPort).toBe(0);
  });

  it('accepts PORT 0 (pick a free port) and 65535', () => {
    expect(load({ JWT_KEY: KEY_32, PORT: '0' }).port).toBe(0);
    expect(load({ JWT_KEY: KEY_32, PORT: '65535' }).port).toBe(65_535);
  });

  it('refuses a missing JWT_KEY', () => {
    expect(configError('JWT_KEY', () => load({})).message).toMatch(/required/);
    configError('JWT_KEY', () => load({ JWT_KEY: '' }));
  });

  it('refuses a JWT_KEY of nothing but blanks', () => {
    expect(configError('JWT_KEY', () => load({ JWT_KEY: ' '.repeat(32) })).message).toBe('JWT_KEY must not be blank');
    configError('JWT_KEY', () => load({ JWT_KEY: '\t\n'.repeat(20) }));
  });

  it('refuses a 31-byte JWT_KEY', () => {
    expect(configError('JWT_KEY', () => load({ JWT_KEY: 'k'.repeat(31) })).message).toBe('JWT_KEY must be at least 32 bytes, got 31');
  });

  it('never puts the JWT_KEY value in its message', () => {
    const secret = 'hunter2-hunter2-hunter2-hunter2';
    expect(configError('JWT_KEY', () => load({ JWT_KEY: secret })).message).not.toContain(secret);
  });

  it.each([
    ['PORT', 'abc', /integer/],
    ['PORT', '70000', /between 0 and 65535/],
    ['PORT', '-1', /between/],
    ['PORT', '80.5', /integer/],
    ['PORT', '1e3', /integer/],
    ['ACCESS_TOKEN_TTL', '15', /duration/],
    ['ACCESS_TOKEN_TTL', '500ms', /at least 1000ms/],
    ['CLOCK_SKEW', 'soon', /duration/],
    ['CLOCK_SKEW', '301s', /at most 300000ms/],
    ['ACCESS_TOKEN_TTL', '25h', /at most 86400000ms/],
    ['ACCESS_TOKEN_TTL', '200000d', /at most 86400000ms/],
    ['BAN_CACHE_MAX', '4294967296', /between 1 and 10000000/],
    ['NODE_ENV', 'Production', /one of production, development, test/],
    ['NODE_ENV', 'prod', /one of/],
    ['CLOCK_SKEW', '1h', /at most 300000ms/],
    ['ALLOWED_ORIGINS', 'app.example.com', /origins such as/],
    ['ALLOWED_ORIGINS', 'https://app.example.com/login', /nothing after/],
    ['ALLOWED_ORIGINS', 'https://app.example.com?x=1', /nothing after/],
    ['ALLOWED_ORIGINS', 'https://user@app.example.com', /nothing after/],
    ['ALLOWED_ORIGINS', 'ftp://files.example.com', /nothing after/],
    ['ALLOWED_ORIGINS', 'null', /origins such as/],
    ['DATABASE_URL', 'mysql://x', /postgres: or postgresql:/],
    ['DATABASE_URL', 'not a url', /URL/],
    ['NATS_URL', 'http://nats:4222', /nats: or tls:/],
    ['LOG_LEVEL', 'loud', /one of/],
    ['BAN_CACHE_MAX', '0', /between 1 and/],
    ['BAN_CACHE_MAX', 'many', /integer/],
    ['TRUST_PROXY', 'true', /integer/],
    ['TRUST_PROXY', 'FALSE', /integer/],
    ['TRUST_PROXY', 'loopback', /integer/],
    ['TRUST_PROXY', '10.0.0.0/8', /integer/],
    ['TRUST_PROXY', '-1', /between 0 and 10/],
    ['TRUST_PROXY', '11', /between 0 and 10/],
    ['TRUST_PROXY', '1.5', /integer/],
  ])('refuses %s=%j with one line naming it', (variable, value, problem) => {
    const err = configError(variable, () => load({ JWT_KEY: KEY_32, [variable]: value }));
    expect(err.message).toMatch(problem);
  });

  it('puts a hostile value on the same line', () => {
    const err = configError('PORT', () => load({ JWT_KEY: KEY_32, PORT: '80\nINJECTED 1' }));
    expect(err.message).toContain('\\n');
  });
});

describe('configReader', () => {
  it('reads a required string, with or without a default', () => {
    const read = configReader({ NAME: ' orders ' });
    expect(read.string('NAME')).toBe('orders');
    expect(read.string('MISSING', { default: 'x' })).toBe('x');
    expect(configError('MISSING', () => read.string('MISSING')).message).toBe('MISSING is required');
  });

  it('reads an optional string', () => {
    const read = configReader({ SET: 'a', EMPTY: '' });
    expect(read.optional('SET')).toBe('a');
    expect(read.optional('EMPTY')).toBeUndefined();
    expect(read.optional('UNSET')).toBeUndefined();
  });

  it('reads an integer within bounds', () => {
    const read = configReader({ N: ' 42 ', NEG: '-3' });
    expect(read.integer('N', { default: 1, min: 0, max: 100 })).toBe(42);
    expect(read.integer('NEG', { default: 1 })).toBe(-3);
    expect(read.integer('UNSET', { default: 7 })).toBe(7);
    configError('N', () => read.integer('N', { default: 1, max: 41 }));
    configError('NEG', () => read.integer('NEG', { default: 1, min: 0 }));
  });

  it('refuses an integer beyond the safe range', () => {
    configError('BIG', () => configReader({ BIG: '9007199254740993' }).integer('BIG', { default: 1 }));
  });

  it('reads a duration in ms', () => {
    const read = configReader({ TTL: '2h' });
    expect(read.durationMs('TTL', { default: '1m' })).toBe(7_200_000);
    expect(read.durationMs('UNSET', { default: '1m' })).toBe(60_000);
    configError('TTL', () => read.durationMs('TTL', { default: '1m', minMs: 7_200_001 }));
  });

  it('reads a secret without defaults, counting bytes', () => {
    const read = configReader({ S: 'é'.repeat(16) });
    expect(read.secret('S', { minBytes: 32 })).toBe('é'.repeat(16));
    configError('S', () => read.secret('S', { minBytes: 33 }));
    configError('NOPE', () => read.secret('NOPE', { minBytes: 1 }));
  });

  it('reads a URL of the allowed protocols', () => {
    const read = configReader({ U: 'nats://x:4222', BAD: 'ftp://x' });
    expect(read.url('U', { protocols: ['nats:'] })).toBe('nats://x:4222');
    expect(read.url('UNSET', { protocols: ['nats:'] })).toBeUndefined();
    expect(read.url('UNSET', { protocols: ['nats:'], default: 'nats://d:1' })).toBe('nats://d:1');
    expect(configError('BAD', () => read.url('BAD', { protocols: ['nats:'] })).message).toBe('BAD must use nats:, got ftp:');
  });

  it('reads a comma-separated list, dropping blanks', () => {
    const read = configReader({ ADMIN_EMAILS: ' a@x.io, ,b@x.io,' });
    expect(read.list('ADMIN_EMAILS')).toEqual(['a@x.io', 'b@x.io']);
    expect(read.list('UNSET')).toEqual([]);
  });

  it('reads one of a set of choices', () => {
    const read = configReader({ LEVEL: 'warn', BAD: 'WARN' });
    expect(read.oneOf('LEVEL', ['info', 'warn'] as const, 'info')).toBe('warn');
    expect(read.oneOf('UNSET', ['info', 'warn'] as const, 'info')).toBe('info');
    configError('BAD', () => read.oneOf('BAD', ['info', 'warn'] as const, 'info'));
  });
});

describe('loadServiceConfig: token keys', () => {
  const OLD = createEs256KeyPair();
  const NEW = createEs256KeyPair();
  const es256 = (env: Env) => load({ JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEYS: OLD.publicKeyPem, ...env });

  it('verifies ES256 with the JWT_PUBLIC_KEYS, parsed once into KeyObjects, escaped line breaks too', () => {
    const config = es256({ JWT_PUBLIC_KEYS: OLD.publicKeyPem + NEW.publicKeyPem.replace(/\n/g, '\\n') });
    expect(config.jwtAlgorithm).toBe('ES256');
    expect(config.tokenKeys.key).toBeUndefined();
    expect(config.tokenKeys.publicKeys!.map(tokenKeyId)).toEqual([OLD, NEW].map((pair) => tokenKeyId(createPublicKey(pair.publicKeyPem))));
    expect(Object.isFrozen(config.tokenKeys.publicKeys)).toBe(true);
  });

  it('refuses ES256 without JWT_PUBLIC_KEYS, or with keys that are not P-256 public keys', () => {
    configError('JWT_PUBLIC_KEYS', () => load({ JWT_ALGORITHM: 'ES256' }));
    expect(configError('JWT_PUBLIC_KEYS', () => es256({ JWT_PUBLIC_KEYS: 'abc' })).message).toMatch(/not a whole PEM block/);
    expect(configError('JWT_PUBLIC_KEYS', () => es256({ JWT_PUBLIC_KEYS: OLD.privateKeyPem })).message).toMatch(/is a private key/);
  });

  it('refuses a JWT_KEY left beside ES256: the shared secret could still mint tokens', () => {
    expect(configError('JWT_KEY', () => es256({ JWT_KEY: KEY_32 })).message).toMatch(/remove the shared secret/);
  });

  it('refuses public or private keys under HS256, the default: the operator meant ES256', () => {
    expect(configError('JWT_PUBLIC_KEYS', () => load({ JWT_KEY: KEY_32, JWT_PUBLIC_KEYS: OLD.publicKeyPem })).message).toMatch(/set JWT_ALGORITHM=ES256/);
    expect(configError('JWT_PUBLIC_KEYS', () => load({ JWT_PUBLIC_KEYS: OLD.publicKeyPem })).message).toMatch(/JWT_ALGORITHM is HS256/);
  });

  it('refuses JWT_PRIVATE_KEY in any service but auth: only auth signs', () => {
    expect(configError('JWT_PRIVATE_KEY', () => es256({ JWT_PRIVATE_KEY: OLD.privateKeyPem })).message).toBe('JWT_PRIVATE_KEY is set, but only auth signs tokens: give this service JWT_PUBLIC_KEYS alone');
    configError('JWT_PRIVATE_KEY', () => load({ JWT_KEY: KEY_32, JWT_PRIVATE_KEY: OLD.privateKeyPem }));
  });

  it('refuses an unknown JWT_ALGORITHM', () => {
    for (const value of ['RS256', 'none', 'es256', 'HS512']) {
      expect(configError('JWT_ALGORITHM', () => load({ JWT_KEY: KEY_32, JWT_ALGORITHM: value })).message).toMatch(/one of HS256, ES256/);
    }
  });

  it('gives auth the key it signs with, whose public half must be among JWT_PUBLIC_KEYS', () => {
    const env = { JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEYS: OLD.publicKeyPem + NEW.publicKeyPem, JWT_PRIVATE_KEY: NEW.privateKeyPem };
    const auth = loadServiceConfig(env, { ...DEFAULTS, signsTokens: true });
    expect(tokenKeyId(readSigningKey(env, auth))).toBe(tokenKeyId(createPublicKey(NEW.publicKeyPem)));
    // Under HS256 auth signs with the shared secret it verifies with.
    const hs256 = { JWT_KEY: KEY_32 };
    const authHs256 = loadServiceConfig(hs256, { ...DEFAULTS, signsTokens: true });
    expect(readSigningKey(hs256, authHs256)).toBe(authHs256.tokenKeys.key);
  });

  it('refuses auth a private key whose public half no service would hold, and one that is missing or not P-256', () => {
    const env = { JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEYS: OLD.publicKeyPem };
    const auth = loadServiceConfig(env, { ...DEFAULTS, signsTokens: true });
    expect(configError('JWT_PUBLIC_KEYS', () => readSigningKey({ ...env, JWT_PRIVATE_KEY: NEW.privateKeyPem }, auth)).message).toMatch(/must include the public key of JWT_PRIVATE_KEY \(kid /);
    configError('JWT_PRIVATE_KEY', () => readSigningKey(env, auth));
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(configError('JWT_PRIVATE_KEY', () => readSigningKey({ ...env, JWT_PRIVATE_KEY: p384 }, auth)).message).toMatch(/P-256/);
    const message = configError('JWT_PRIVATE_KEY', () => readSigningKey({ ...env, JWT_PRIVATE_KEY: OLD.publicKeyPem }, auth)).message;
    expect(message).toMatch(/PEM private key/);
  });

  it('never puts a private key in its message', () => {
    const env = { JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEYS: OLD.publicKeyPem };
    const auth = loadServiceConfig(env, { ...DEFAULTS, signsTokens: true });
    const body = NEW.privateKeyPem.split('\n')[1]!;
    expect(configError('JWT_PUBLIC_KEYS', () => readSigningKey({ ...env, JWT_PRIVATE_KEY: NEW.privateKeyPem }, auth)).message).not.toContain(body);
    expect(configError('JWT_PUBLIC_KEYS', () => es256({ JWT_PUBLIC_KEYS: OLD.publicKeyPem + NEW.privateKeyPem })).message).not.toContain(body);
  });

  it('reads TOKEN_CACHE_MAX from 0 (no cache) to a million', () => {
    expect(load({ JWT_KEY: KEY_32, TOKEN_CACHE_MAX: '0' }).tokenCacheMax).toBe(0);
    expect(load({ JWT_KEY: KEY_32, TOKEN_CACHE_MAX: '1000000' }).tokenCacheMax).toBe(1_000_000);
    configError('TOKEN_CACHE_MAX', () => load({ JWT_KEY: KEY_32, TOKEN_CACHE_MAX: '1000001' }));
    configError('TOKEN_CACHE_MAX', () => load({ JWT_KEY: KEY_32, TOKEN_CACHE_MAX: '-1' }));
  });
});

describe('loadServiceConfig: NATS credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ticketing-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an NKey user seed from NATS_NKEY_SEED_FILE', () => {
    const user = createNatsUser(dir, 'reader');
    expect(load({ JWT_KEY: KEY_32, NATS_NKEY_SEED_FILE: user.seedFile }).natsNkeySeed).toBe(user.seed);
  });

  it('refuses a seed file that is missing, empty, not a seed, or not a user seed', () => {
    expect(configError('NATS_NKEY_SEED_FILE', () => load({ JWT_KEY: KEY_32, NATS_NKEY_SEED_FILE: join(dir, 'missing.nk') })).message).toMatch(/cannot be read \(ENOENT\)/);
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const user = createNatsUser(dir, 'user');
    const account = new TextDecoder().decode(nkeys.createAccount().getSeed());
    // typo.nk changes a character in the middle: the last one holds padding bits, which no checksum sees.
    for (const [name, text] of [['empty.nk', ''], ['public.nk', user.publicKey], ['typo.nk', `${user.seed.slice(0, 20)}${user.seed[20] === 'A' ? 'B' : 'A'}${user.seed.slice(21)}`], ['account.nk', account]] as const) {
      const message = configError('NATS_NKEY_SEED_FILE', () => load({ JWT_KEY: KEY_32, NATS_NKEY_SEED_FILE: write(name, text) })).message;
      expect(message).toMatch(/seed/);
      expect(message).not.toContain(user.seed);
    }
  });

  it('refuses a seed file beside credentials in NATS_URL', () => {
    const user = createNatsUser(dir, 'both');
    expect(configError('NATS_NKEY_SEED_FILE', () => load({ JWT_KEY: KEY_32, NATS_URL: 'nats://svc:pw@nats:4222', NATS_NKEY_SEED_FILE: user.seedFile })).message).toMatch(/use one of them/);
  });

  it('takes the nodes of a cluster in NATS_URL, separated by commas, with the same credentials in each', () => {
    expect(load({ JWT_KEY: KEY_32, NATS_URL: 'nats://nats-0:4222, nats://nats-1:4222,nats://nats-2:4222' }).natsUrl).toBe('nats://nats-0:4222,nats://nats-1:4222,nats://nats-2:4222');
    expect(load({ JWT_KEY: KEY_32, NATS_URL: 'nats://svc:pw@a:4222,nats://svc:pw@b:4222' }).natsUrl).toBe('nats://svc:pw@a:4222,nats://svc:pw@b:4222');
    expect(configError('NATS_URL', () => load({ JWT_KEY: KEY_32, NATS_URL: 'nats://a:4222,,nats://b:4222' })).message).toMatch(/none empty/);
    expect(configError('NATS_URL', () => load({ JWT_KEY: KEY_32, NATS_URL: 'nats://a:4222,b:4222' })).message).toMatch(/nats: or tls:/);
    expect(configError('NATS_URL', () => load({ JWT_KEY: KEY_32, NATS_URL: 'nats://a:4222,http://b:4222' })).message).toMatch(/nats: or tls:/);
    const mixed = configError('NATS_URL', () => load({ JWT_KEY: KEY_32, NATS_URL: 'nats://svc:pw@a:4222,nats://b:4222' }));
    expect(mixed.message).toMatch(/different credentials/);
    expect(mixed.message).not.toContain('pw');
    const user = createNatsUser(dir, 'cluster');
    expect(configError('NATS_NKEY_SEED_FILE', () => load({ JWT_KEY: KEY_32, NATS_URL: 'nats://svc:pw@a:4222,nats://svc:pw@b:4222', NATS_NKEY_SEED_FILE: user.seedFile })).message).toMatch(/use one of them/);
  });
});
