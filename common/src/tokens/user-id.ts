/** A UUID in the 8-4-4-4-12 hex form, in any letter case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  return typeof value === 'string' && UUID_PATTERN.test(value) ? value.toLowerCase() : undefined;
}
