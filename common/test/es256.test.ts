import { createHash, createHmac, createPublicKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, it, expect } from 'vitest';
import {
  createTokenPublicKeys,
  createTokenSigner,
  createTokenSigningKey,
  createTokenVerifier,
  InvalidTokenError,
  publicKeysJwks,
  tokenKeyId,
  type TokenVerifier,
} from '@ticketing/common/tokens';
import { createEs256KeyPair } from '@ticketing/testing';
import { ALICE, KEY, T0, T0_SECONDS, base64url } from './fixtures.js';

const OLD = createEs256KeyPair();
const NEW = createEs256KeyPair();
const STRANGER = createEs256KeyPair();

const signerOf = (pem: string) => createTokenSigner({ key: createTokenSigningKey(pem), ttlMs: 900_000, now: () => T0 });
const verifierOf = (...pems: string[]) => createTokenVerifier({ publicKeys: createTokenPublicKeys(pems.join('')), maxLifetimeMs: 900_000, now: () => T0 });

/** The refusal `verify` throws; fails the test when the token is accepted. */
function refusal(verifier: TokenVerifier, token: string): InvalidTokenError {
  try {
    expect.fail(`token was accepted: ${JSON.stringify(verifier.verify(token))}`);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTokenError);
    return err as InvalidTokenError;
  }
}

/** A compact JWT with this header and these claims, its signature made by `signature(signingInput)`. */
function handMade(header: Record<string, unknown>, claims: Record<string, unknown>, signature: (input: string) => Buffer): string {
  const input = `${base64url(header)}.${base64url(claims)}`;
  return `${input}.${signature(input).toString('base64url')}`;
}

/** An ES256 signature (IEEE P1363 form, as JWS wants it) by `key`. */
const es256 = (key: KeyObject) => (input: string) => cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });

const CLAIMS = { ...ALICE, iat: T0_SECONDS, exp: T0_SECONDS + 900, iss: 'ticketing-auth' };

describe('ES256 keys', () => {
  it('reads a PKCS #8 or SEC 1 private key, with real or escaped line breaks', () => {
    const key = createTokenSigningKey(OLD.privateKeyPem);
    expect(key.type).toBe('private');
    const sec1 = key.export({ type: 'sec1', format: 'pem' }).toString();
    expect(tokenKeyId(createTokenSigningKey(sec1))).toBe(tokenKeyId(key));
    expect(tokenKeyId(createTokenSigningKey(OLD.privateKeyPem.replace(/\n/g, '\\n')))).toBe(tokenKeyId(key));
    expect(tokenKeyId(createTokenSigningKey(OLD.privateKeyPem.replace(/\n/g, '\r\n')))).toBe(tokenKeyId(key));
  });

  it('reads a SEC 1 key after the EC PARAMETERS block `openssl ecparam -genkey` writes first', () => {
    const key = createTokenSigningKey(OLD.privateKeyPem);
    const params = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
    const sec1 = key.export({ type: 'sec1', format: 'pem' }).toString();
    expect(tokenKeyId(createTokenSigningKey(params + sec1))).toBe(tokenKeyId(key));
  });

  it('refuses a private key that is not EC P-256, a public key, or not a key at all (TypeError)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => createTokenSigningKey(rsa)).toThrow(/must be an EC P-256 key \(ES256\), got rsa/);
    expect(() => createTokenSigningKey(p384)).toThrow(/got ec secp384r1/);
    expect(() => createTokenSigningKey(OLD.publicKeyPem)).toThrow(/got -----BEGIN PUBLIC KEY-----/);
    expect(() => createTokenSigningKey('')).toThrow(/one PEM private key, got 0/);
    expect(() => createTokenSigningKey(OLD.privateKeyPem + NEW.privateKeyPem)).toThrow(/got 2 PEM blocks/);
    expect(() => createTokenSigningKey(OLD.privateKeyPem.slice(0, -40))).toThrow(TypeError);
    const mangled = OLD.privateKeyPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
    expect(() => createTokenSigningKey(mangled)).toThrow(/cannot|unencrypted/);
  });

  it('reads several public keys, one after another, each once', () => {
    const keys = createTokenPublicKeys(`${OLD.publicKeyPem}\n${NEW.publicKeyPem}${OLD.publicKeyPem}`);
    expect(keys.map(tokenKeyId)).toEqual([OLD, NEW].map((pair) => tokenKeyId(createPublicKey(pair.publicKeyPem))));
  });

  it('refuses a private key among the public ones: a service holding it could mint tokens', () => {
    expect(() => createTokenPublicKeys(OLD.publicKeyPem + NEW.privateKeyPem)).toThrow(/key 2 is a private key/);
    expect(() => createTokenPublicKeys(OLD.privateKeyPem)).toThrow(/the key is a private key/);
  });

  it('refuses no key, a key on another curve, a certificate, and text around the keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => createTokenPublicKeys('')).toThrow(/at least one PEM public key/);
    expect(() => createTokenPublicKeys(rsa)).toThrow(/must be an EC P-256 key \(ES256\), got rsa/);
    expect(() => createTokenPublicKeys('-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----')).toThrow(/got -----BEGIN CERTIFICATE-----/);
    expect(() => createTokenPublicKeys(`${OLD.publicKeyPem}garbage`)).toThrow(/not a whole PEM block/);
    expect(() => createTokenPublicKeys(OLD.publicKeyPem.slice(0, -30))).toThrow(/not a whole PEM block/);
  });

  it('names a key by its RFC 7638 thumbprint, the same for its private and public halves', () => {
    const publicKey = createPublicKey(OLD.publicKeyPem);
    const { x, y } = publicKey.export({ format: 'jwk' });
    const expected = createHash('sha256').update(`{"crv":"P-256","kty":"EC","x":"${x}","y":"${y}"}`).digest('base64url');
    expect(tokenKeyId(publicKey)).toBe(expected);
    expect(tokenKeyId(createTokenSigningKey(OLD.privateKeyPem))).toBe(expected);
    expect(tokenKeyId(createPublicKey(NEW.publicKeyPem))).not.toBe(expected);
    expect(() => tokenKeyId(KEY)).toThrow(TypeError);
  });

  it('lists the public keys as a JWKS, each with its kid, and no private member', () => {
    const keys = createTokenPublicKeys(OLD.publicKeyPem + NEW.publicKeyPem);
    const jwks = publicKeysJwks(keys);
    expect(jwks.keys).toHaveLength(2);
    for (const [index, jwk] of jwks.keys.entries()) {
      expect(jwk).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: tokenKeyId(keys[index]!), alg: 'ES256', use: 'sig' });
      expect(jwk).not.toHaveProperty('d');
    }
  });
});

describe('signing and verifying ES256', () => {
  it('signs with the kid of its key, and a verifier holding the public key accepts it', () => {
    const token = signerOf(OLD.privateKeyPem).sign(ALICE);
    const { header } = jwt.decode(token, { complete: true })!;
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: tokenKeyId(createPublicKey(OLD.publicKeyPem)) });
    expect(verifierOf(OLD.publicKeyPem).verify(token)).toEqual({ ...ALICE, iat: T0_SECONDS, exp: T0_SECONDS + 900 });
  });

  it('accepts tokens of every key it holds (a rotation), each checked with its own key', () => {
    const verifier = verifierOf(OLD.publicKeyPem, NEW.publicKeyPem);
    expect(verifier.verify(signerOf(OLD.privateKeyPem).sign(ALICE)).id).toBe(ALICE.id);
    expect(verifier.verify(signerOf(NEW.privateKeyPem).sign(ALICE)).id).toBe(ALICE.id);
  });

  it('refuses a token whose kid names no key it holds, once that key is retired', () => {
    const token = signerOf(OLD.privateKeyPem).sign(ALICE);
    const err = refusal(verifierOf(NEW.publicKeyPem), token);
    expect(err.reason).toBe('kid');
    expect(err.message).toBe('invalid token: kid names no key this service holds');
  });

  it('refuses an ES256 token without a kid, or with a kid that is not a string', () => {
    const key = createTokenSigningKey(OLD.privateKeyPem);
    expect(refusal(verifierOf(OLD.publicKeyPem), handMade({ alg: 'ES256', typ: 'JWT' }, CLAIMS, es256(key))).reason).toBe('kid');
    const kid = tokenKeyId(key);
    expect(refusal(verifierOf(OLD.publicKeyPem), handMade({ alg: 'ES256', kid: [kid] }, CLAIMS, es256(key))).reason).toBe('kid');
    expect(refusal(verifierOf(OLD.publicKeyPem), handMade({ alg: 'ES256', kid: { kid } }, CLAIMS, es256(key))).reason).toBe('kid');
  });

  it('accepts a hand-made ES256 token with the right kid, so the refusals above are about the kid', () => {
    const key = createTokenSigningKey(OLD.privateKeyPem);
    expect(verifierOf(OLD.publicKeyPem).verify(handMade({ alg: 'ES256', kid: tokenKeyId(key) }, CLAIMS, es256(key))).id).toBe(ALICE.id);
  });

  it('refuses a token that names a held kid but was signed by another key', () => {
    const kid = tokenKeyId(createPublicKey(OLD.publicKeyPem));
    const forged = handMade({ alg: 'ES256', kid }, CLAIMS, es256(createTokenSigningKey(STRANGER.privateKeyPem)));
    expect(refusal(verifierOf(OLD.publicKeyPem), forged).reason).toBe('signature');
  });

  it('refuses an HS256 token made with the public key as its HMAC secret (algorithm confusion)', () => {
    const kid = tokenKeyId(createPublicKey(OLD.publicKeyPem));
    const hmacWith = (secret: string | Buffer) => (input: string) => createHmac('sha256', secret).update(input).digest();
    const spkiDer = createPublicKey(OLD.publicKeyPem).export({ type: 'spki', format: 'der' });
    for (const secret of [OLD.publicKeyPem, OLD.publicKeyPem.trim(), spkiDer]) {
      expect(refusal(verifierOf(OLD.publicKeyPem), handMade({ alg: 'HS256', kid }, CLAIMS, hmacWith(secret))).reason).toBe('algorithm');
      expect(refusal(verifierOf(OLD.publicKeyPem), handMade({ alg: 'HS256' }, CLAIMS, hmacWith(secret))).reason).toBe('kid');
    }
  });

  it('refuses alg none, and every other algorithm, with a held kid', () => {
    const kid = tokenKeyId(createPublicKey(OLD.publicKeyPem));
    const verifier = verifierOf(OLD.publicKeyPem);
    // jsonwebtoken names the missing signature first.
    expect(refusal(verifier, `${base64url({ alg: 'none', kid })}.${base64url(CLAIMS)}.`).reason).toBe('signature');
    const signature = signerOf(OLD.privateKeyPem).sign(ALICE).split('.')[2];
    expect(refusal(verifier, `${base64url({ alg: 'none', kid })}.${base64url(CLAIMS)}.${signature}`).reason).toBe('algorithm');
    const es384 = createTokenSigningKey(OLD.privateKeyPem);
    const es384Token = handMade({ alg: 'ES384', kid }, CLAIMS, (input) => cryptoSign('sha384', Buffer.from(input), { key: es384, dsaEncoding: 'ieee-p1363' }));
    expect(refusal(verifier, es384Token).reason).toBe('algorithm');
  });

  it('never uses a key the token brings along (jwk, jku, x5u): only one it holds, by kid', () => {
    const attacker = createTokenSigningKey(STRANGER.privateKeyPem);
    const jwk = { ...createPublicKey(STRANGER.publicKeyPem).export({ format: 'jwk' }), kid: tokenKeyId(attacker) };
    const verifier = verifierOf(OLD.publicKeyPem);
    const embedded = handMade({ alg: 'ES256', kid: tokenKeyId(attacker), jwk }, CLAIMS, es256(attacker));
    expect(refusal(verifier, embedded).reason).toBe('kid');
    const jku = handMade({ alg: 'ES256', kid: tokenKeyId(attacker), jku: 'https://evil.example/jwks.json', x5u: 'https://evil.example/cert' }, CLAIMS, es256(attacker));
    expect(refusal(verifier, jku).reason).toBe('kid');
  });

  it('refuses an HS256 token in an ES256 service even when its kid and secret are right for some HS256 service', () => {
    const hs256 = createTokenSigner({ key: KEY, ttlMs: 900_000, now: () => T0 }).sign(ALICE);
    expect(refusal(verifierOf(OLD.publicKeyPem), hs256).reason).toBe('kid');
  });

  it('refuses an ES256 token in an HS256 service', () => {
    const token = signerOf(OLD.privateKeyPem).sign(ALICE);
    const hs256 = createTokenVerifier({ key: KEY, maxLifetimeMs: 900_000, now: () => T0 });
    expect(refusal(hs256, token).reason).toBe('algorithm');
  });

  it('applies the same lifetime, crit and claim checks as HS256', () => {
    const key = createTokenSigningKey(OLD.privateKeyPem);
    const kid = tokenKeyId(key);
    const verifier = verifierOf(OLD.publicKeyPem);
    expect(refusal(verifier, handMade({ alg: 'ES256', kid }, { ...CLAIMS, exp: T0_SECONDS + 901 }, es256(key))).reason).toBe('lifetime');
    expect(refusal(verifier, handMade({ alg: 'ES256', kid, crit: ['exp'] }, CLAIMS, es256(key))).reason).toBe('crit');
    expect(refusal(verifier, handMade({ alg: 'ES256', kid }, { ...CLAIMS, id: 'not-a-uuid' }, es256(key))).reason).toBe('claims');
    expect(verifier.verify(handMade({ alg: 'ES256', kid }, { ...CLAIMS, id: ALICE.id.toUpperCase() }, es256(key))).id).toBe(ALICE.id);
  });

  it('refuses a header that is not base64url JSON', () => {
    const token = signerOf(OLD.privateKeyPem).sign(ALICE);
    const [, payload, signature] = token.split('.');
    expect(refusal(verifierOf(OLD.publicKeyPem), `bm90IGpzb24.${payload}.${signature}`).reason).toBe('kid');
    expect(refusal(verifierOf(OLD.publicKeyPem), 'garbage').reason).toBe('kid');
  });
});

describe('ES256 options', () => {
  it('refuses a public key list that is empty or holds anything but EC P-256 public keys (TypeError)', () => {
    const ed = generateKeyPairSync('ed25519').publicKey;
    const privateKey = createTokenSigningKey(OLD.privateKeyPem);
    for (const publicKeys of [[], [ed], [privateKey], [KEY], ['pem' as never], undefined as never]) {
      expect(() => createTokenVerifier({ publicKeys, maxLifetimeMs: 900_000 })).toThrow(TypeError);
    }
  });

  it('refuses both a secret and public keys, or HMAC algorithms with public keys (TypeError)', () => {
    const publicKeys = createTokenPublicKeys(OLD.publicKeyPem);
    expect(() => createTokenVerifier({ key: KEY, publicKeys, maxLifetimeMs: 900_000 } as never)).toThrow(/not both/);
    expect(() => createTokenVerifier({ publicKeys, algorithms: ['HS256'], maxLifetimeMs: 900_000 } as never)).toThrow(/ES256 alone/);
  });

  it('signs ES256 only with a P-256 private key, and takes no HMAC algorithm for it (TypeError)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() => createTokenSigner({ key: rsa, ttlMs: 60_000 })).toThrow(TypeError);
    expect(() => createTokenSigner({ key: createPublicKey(OLD.publicKeyPem), ttlMs: 60_000 })).toThrow(TypeError);
    expect(() => createTokenSigner({ key: createTokenSigningKey(OLD.privateKeyPem), ttlMs: 60_000, algorithm: 'HS256' })).toThrow(/P-256 private key signs ES256/);
  });
});
