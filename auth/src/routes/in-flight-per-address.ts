import type { Request, RequestHandler } from 'express';
import { HttpError } from '@ticketing/common/http';
import { clientAddressKey } from './client-address.js';

export interface InFlightPerAddress {
  /**
   * Takes one of the client address's slots, or answers 429 `TOO_MANY_REQUESTS` at once, before
   * any work and before any rate limit counts the request: put it first on a route that hashes.
   */
  acquire: RequestHandler;
  /**
   * Keeps the request's slot taken until `work` settles, even when the client goes away first:
   * an abandoned request's hash still runs, so it still holds its address's place.
   */
  hold<T>(req: Request, work: Promise<T>): Promise<T>;
}

/**
 * Bounds the requests that one client address (an IPv6 /56) has in flight on the routes that hash
 * a password. The hasher runs a few derivations and queues a few dozen for the whole service, then
 * answers 503 to everyone; without a bound per address, a few addresses signing in to accounts of
 * their own (successful sign-ins count against no attempt limit) could fill that queue and keep
 * everyone else out. A slot is given back once the response is over and the work held on it has
 * settled. The table holds only addresses with a request in flight.
 *
 * @example
 * const inFlight = inFlightPerAddress({ maxPerAddress: 2 });
 * router.post('/api/users/signin', inFlight.acquire, async (req, res) => {
 *   const valid = await inFlight.hold(req, hasher.verify(password, stored));
 * });
 */
export function inFlightPerAddress(options: { maxPerAddress: number }): InFlightPerAddress {
  const max = options.maxPerAddress;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`inFlightPerAddress: maxPerAddress must be a positive integer, got ${max}`);
  const inFlight = new Map<string, number>();
  // What keeps each request's slot taken: its response, and the work held on it.
  const holders = new WeakMap<Request, { pending: number; release: () => void }>();
  return {
    acquire: function inFlightLimit(req, res, next) {
      const key = clientAddressKey(req);
      const count = inFlight.get(key) ?? 0;
      if (count >= max) throw new HttpError('TOO_MANY_REQUESTS');
      inFlight.set(key, count + 1);
      const holder = {
        pending: 1,
        release() {
          holder.pending -= 1;
          if (holder.pending > 0) return;
          const left = (inFlight.get(key) ?? 1) - 1;
          if (left === 0) inFlight.delete(key);
          else inFlight.set(key, left);
        },
      };
      holders.set(req, holder);
      // 'close' comes after the response is sent, and also when the client goes away first.
      res.once('close', () => holder.release());
      next();
    },
    hold(req, work) {
      const holder = holders.get(req);
      if (holder === undefined) throw new TypeError('inFlightPerAddress: hold() needs a request that passed acquire');
      // The response is over and its slot given back already: nothing left to hold.
      if (holder.pending === 0) return work;
      holder.pending += 1;
      return work.finally(() => holder.release());
    },
  };
}
