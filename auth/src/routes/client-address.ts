import { isIP } from 'node:net';
import type { Request } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';

/**
 * An IPv6 client usually holds a whole /56 or /64, so counting per address would give it billions
 * of counters; a /56 is counted as one address (express-rate-limit's default `ipKeyGenerator`).
 */
export const IPV6_SUBNET = 56;

/**
 * The key that the per-address limits count a request under: its client address as express sees
 * it (`req.ip`, which follows `trust proxy`), with an IPv6 address cut to its /56. When that is not
 * an IP address (a trusted hop passed on whatever text the client put in X-Forwarded-For) the
 * connection's own address is used instead, so no header text ever becomes a key.
 *
 * @example
 * rateLimit({ keyGenerator: clientAddressKey });
 */
export function clientAddressKey(req: Request): string {
  const claimed = req.ip;
  const address = claimed !== undefined && isIP(claimed) !== 0 ? claimed : req.socket.remoteAddress;
  return ipKeyGenerator(address ?? 'unknown', IPV6_SUBNET);
}
