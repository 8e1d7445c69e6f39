import type { Request } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';

/**
 * An IPv6 client usually holds a whole /56 or /64, so counting per address would give it billions
 * of counters; a /56 is counted as one address (express-rate-limit's default `ipKeyGenerator`).
 */
export const IPV6_SUBNET = 56;

/**
 * The key that the per-address limits count a request under: its client address as express sees
 * it (`req.ip`, which follows `trust proxy`), with an IPv6 address cut to its /56.
 *
 * @example
 * rateLimit({ keyGenerator: clientAddressKey });
 */
export function clientAddressKey(req: Request): string {
  return ipKeyGenerator(req.ip ?? '', IPV6_SUBNET);
}
