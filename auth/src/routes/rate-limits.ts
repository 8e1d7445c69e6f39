import type { Request, RequestHandler } from 'express';
import { rateLimit, type Options } from 'express-rate-limit';
import { HttpError } from '@ticketing/common/http';
import type { Logger } from '@ticketing/common/runtime';
import { audit } from './audit.js';
import { clientAddressKey } from './client-address.js';

/** Every limit counts in fixed one-minute windows. */
const WINDOW_MS = 60_000;


export interface RateLimitsOptions {
  /** Signups, and failed sign-ins (each counted on its own), allowed per client address per minute. */
  perAddressPerMinute: number;
  /** Failed sign-ins allowed per account (the normalised email) from one client address per minute. */
  perAccountPerAddressPerMinute: number;
  /**
   * Failed sign-ins allowed per account per minute from all addresses together. It must be more
   * than `perAccountPerAddressPerMinute`, or one address could lock the account alone.
   */
  perAccountAllAddressesPerMinute: number;
  /** Where express-rate-limit reports a misconfiguration it detects (such as an untrusted proxy header). */
  logger: Logger;
}

export interface RateLimits {
  /** Every signup attempt not answered 5xx, per client address: put it before the body is validated. */
  signupPerAddress: RequestHandler;
  /** Sign-ins that do not succeed, per client address: put it before the body is validated. */
  signinFailuresPerAddress: RequestHandler;
  /**
   * Sign-ins that do not succeed, per account from one address and then per account from all
   * addresses, in that order: mount them together after the body is validated (they read `req.body.email`).
   */
  signinFailuresPerAccount: readonly RequestHandler[];
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`rateLimits: ${name} must be a positive integer, got ${value}`);
  return value;
}

function signinEmail(req: Request): string {
  const { email } = req.body as { email?: unknown };
  if (typeof email !== 'string') throw new TypeError('signinFailuresPerAccount: mount it after the body is validated');
  return email;
}

/**
 * The attempt limits of signup and signin, each answering 429 `TOO_MANY_REQUESTS`. A sign-in counts
 * only when it does not succeed (status 400 and up), so people behind one NAT are not locked out by
 * each other's successful sign-ins. A failure counts against its address, against its account from
 * that address, and against its account from all addresses: one address alone cannot lock anyone
 * else out of an account, and a guesser spread over many addresses still meets the account limit.
 * It counts from the moment it starts and is taken back when it succeeds, so concurrent guesses
 * cannot slip past a limit. Signups count whether or not they succeed: a successful signup is what a
 * bulk account creator is after, and each costs a password hash. A 5xx (auth too busy to hash, or
 * its database down) counts against neither, so a flood that fills the hashing queue does not also
 * use up an innocent client's attempts. Counters are in memory, per
 * replica; each is dropped within two windows.
 *
 * @example
 * const limits = rateLimits({ perAddressPerMinute: 20, perAccountPerAddressPerMinute: 10, perAccountAllAddressesPerMinute: 100, logger });
 * router.post('/api/users/signin', limits.signinFailuresPerAddress, validateRequest({ body }), ...limits.signinFailuresPerAccount, signin);
 */
export function rateLimits(options: RateLimitsOptions): RateLimits {
  const perAddress = positiveInteger('perAddressPerMinute', options.perAddressPerMinute);
  const perAccountPerAddress = positiveInteger('perAccountPerAddressPerMinute', options.perAccountPerAddressPerMinute);
  const perAccount = positiveInteger('perAccountAllAddressesPerMinute', options.perAccountAllAddressesPerMinute);
  if (perAccount <= perAccountPerAddress) {
    throw new TypeError(
      `rateLimits: perAccountAllAddressesPerMinute (${perAccount}) must be more than perAccountPerAddressPerMinute (${perAccountPerAddress})`,
    );
  }
  const { logger } = options;
  const common: Partial<Options> = {
    windowMs: WINDOW_MS,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res, next, used) => {
      audit(res, logger, 'rate_limited', { limiter: used.identifier, address: clientAddressKey(req) }, 'too many attempts; refused with 429');
      next(new HttpError('TOO_MANY_REQUESTS'));
    },
    // With skipSuccessfulRequests, only the caller's failures count: a 503 (auth busy or its
    // database down) is not a wrong guess, and must not use up an innocent user's attempts.
    requestWasSuccessful: (_req, res) => res.statusCode < 400 || res.statusCode >= 500,
    logger: {
      error: (err: unknown, message?: string) => logger.error({ err }, message ?? 'rate limiter error'),
      warn: (err: unknown, message?: string) => logger.warn({ err }, message ?? 'rate limiter warning'),
    },
  };
  return {
    // Every signup counts from the moment it starts, and a 5xx is taken back when it ends: "skip
    // successful" with 5xx as the success. skipFailedRequests would also take back a signup whose
    // client hung up, which goes on to create the account.
    signupPerAddress: rateLimit({
      ...common, identifier: 'signup-address', limit: perAddress, keyGenerator: clientAddressKey, skipSuccessfulRequests: true,
      requestWasSuccessful: (_req, res) => res.statusCode >= 500,
    }),
    signinFailuresPerAddress: rateLimit({
      ...common, identifier: 'signin-address', limit: perAddress, keyGenerator: clientAddressKey, skipSuccessfulRequests: true,
    }),
    // The all-addresses counter comes second, so a request the first refuses never reaches it: one
    // address adds at most perAccountPerAddress failures to it a minute, and locking the account out
    // from everywhere takes more than perAccount / perAccountPerAddress addresses.
    signinFailuresPerAccount: Object.freeze([
      rateLimit({
        ...common,
        identifier: 'signin-account-address',
        limit: perAccountPerAddress,
        skipSuccessfulRequests: true,
        // The address part first: it never holds a space, so no two (address, email) pairs share a key.
        keyGenerator: (req) => `${clientAddressKey(req)} ${signinEmail(req)}`,
      }),
      rateLimit({
        ...common, identifier: 'signin-account', limit: perAccount, skipSuccessfulRequests: true, keyGenerator: signinEmail,
      }),
    ]),
  };
}
