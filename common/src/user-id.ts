import { z } from 'zod';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The one form a user id has inside every service: a lower-case UUID. Ids arrive from route
 * params, event payloads and token claims; each boundary turns them into this form, so that a ban,
 * an ownership check or a self-ban check never misses because of letter case. Anything that is not
 * a UUID in the 8-4-4-4-12 hex form gives `undefined`.
 *
 * @example
 * canonicalUserId('3F2504E0-4F89-11D3-9A0C-0305E82C3301'); // '3f2504e0-4f89-11d3-9a0c-0305e82c3301'
 */
export function canonicalUserId(value: unknown): string | undefined {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
}

/**
 * A zod schema for an id that must be a UUID, parsed into its canonical lower-case form.
 *
 * @example
 * const params = z.object({ id: uuidParam('User id must be a UUID') });
 */
export function uuidParam(message: string) {
  return z.string({ error: message }).regex(UUID, { error: message }).transform((id) => id.toLowerCase());
}
