import type { RequestHandler } from 'express';

/**
 * The headers every API answer carries: those the OWASP REST Security Cheat Sheet lists for API
 * responses, rather than a web page's set. The answers hold a user's data and are never pages:
 * nothing may keep them (`no-store`), render them, frame them or read them from another origin.
 * A route that means otherwise (the JWKS, which may be cached) sets its own `Cache-Control`.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
});

/**
 * Sets `SECURITY_HEADERS` on every response. They are the same for every request, so they are a
 * fixed list set in one loop.
 *
 * @example
 * app.use(securityHeaders());
 */
export function securityHeaders(): RequestHandler {
  const headers = Object.entries(SECURITY_HEADERS);
  return function setSecurityHeaders(_req, res, next) {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
