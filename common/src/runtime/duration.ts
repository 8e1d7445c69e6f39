const UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/**
 * Parses a duration such as `500ms`, `30s`, `15m`, `24h` or `7d` into milliseconds. A unit is
 * required: a bare number is ambiguous and refused.
 *
 * @example
 * parseDuration('15m'); // 900_000
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new TypeError(`not a duration: ${JSON.stringify(text)} (use e.g. 30s, 15m, 24h)`);
  const ms = Number(match[1]) * UNITS_MS[match[2] as keyof typeof UNITS_MS];
  if (!Number.isSafeInteger(ms)) throw new TypeError(`duration too large: ${text}`);
  return ms;
}
