/**
 * Browser-facing protections on every HTTP response: CORS limited to `CORS_ORIGINS`,
 * security headers, and who the client is (its IP, through trusted proxies only).
 * CSRF is Apollo's `csrfPrevention`: a simple (non-preflighted) request is refused, except one
 * with a bearer token (app/start.ts), which a page on another site cannot send unpreflighted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const CORS_METHODS = 'GET, POST, OPTIONS';
const CORS_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id';
const CORS_MAX_AGE_SECONDS = '600';

/**
 * Adds CORS headers for an allowed `Origin` and answers preflights. Returns true when the
 * request has been answered (a preflight), so the caller stops there. A disallowed origin
 * gets no CORS headers, so the browser keeps the response from the page.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  const allowed = typeof origin === 'string' && allowedOrigins.includes(origin);
  res.setHeader('vary', 'Origin');
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
  }
  if (req.method !== 'OPTIONS') return false;
  if (origin !== undefined && !allowed) {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Origin not allowed (CORS_ORIGINS)');
    return true;
  }
  const headers: Record<string, string> = { allow: CORS_METHODS };
  if (allowed) {
    Object.assign(headers, {
      'access-control-allow-methods': CORS_METHODS,
      'access-control-allow-headers': CORS_HEADERS,
      'access-control-max-age': CORS_MAX_AGE_SECONDS,
    });
  }
  res.writeHead(204, headers);
  res.end();
  return true;
}

const HSTS_MAX_AGE_SECONDS = 365 * 86400;

/**
 * Headers every response carries. The CSP here only forbids framing and plugins, so the
 * dashboard's own scripts keep working; pages that can say exactly what they load (the
 * explorer) replace it with a strict one. HSTS only over HTTPS: sent over plain HTTP it would
 * be ignored at best, and could lock a browser out of a host that has no TLS.
 */
export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse, trustedHops: number): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  // Other sites may not embed our responses (no-cors); CORS requests are governed by CORS_ORIGINS.
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('origin-agent-cluster', '?1');
  res.setHeader('content-security-policy', "frame-ancestors 'none'; object-src 'none'; base-uri 'self'");
  if (servedOverHttps(req, trustedHops)) res.setHeader('strict-transport-security', `max-age=${HSTS_MAX_AGE_SECONDS}`);
}

/**
 * Whether the client reached us over TLS: this socket is TLS, or (behind `trustedHops`
 * proxies only) the outermost trusted proxy says so in `X-Forwarded-Proto`.
 */
export function servedOverHttps(req: IncomingMessage, trustedHops: number): boolean {
  if ('encrypted' in req.socket) return true;
  return trustedHops > 0 && forwardedEntry(req.headers['x-forwarded-proto'], trustedHops)?.toLowerCase() === 'https';
}

/** A strict CSP for a page whose inline script and style carry `nonce`. */
export function strictContentSecurityPolicy(nonce: string, connectTo: string[]): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    // Angular (Altair) and most UI kits set element styles at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${connectTo.join(' ')}`.trim(),
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * The client's address: the socket's, or with `trustedHops` proxies in front, the address
 * the outermost trusted proxy saw (each proxy appends to X-Forwarded-For, so entries further
 * left were written by the client and prove nothing).
 */
export function clientIp(req: IncomingMessage, trustedHops: number): string {
  const socketIp = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops === 0) return socketIp;
  return forwardedEntry(req.headers['x-forwarded-for'], trustedHops)?.slice(0, 64) ?? socketIp;
}

/** The entry of a comma-separated X-Forwarded-* header written by the outermost of `trustedHops` proxies. */
function forwardedEntry(header: string | string[] | undefined, trustedHops: number): string | undefined {
  const entries = (Array.isArray(header) ? header.join(',') : header ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  return entries.length ? entries[Math.max(0, entries.length - trustedHops)] : undefined;
}
