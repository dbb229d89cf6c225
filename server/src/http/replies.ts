/** Plain-Node HTTP helpers: bounded body reading, JSON replies, request ids. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UNAVAILABLE_MESSAGE, UNAVAILABLE_RETRY_SECONDS } from '../core/errors.js';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body is larger than ${limit} bytes (MAX_BODY_BYTES)`);
  }
}

/** Reads the whole body, refusing (and stopping to read) once it passes `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** A GraphQL-shaped error reply for failures before GraphQL runs (bad JSON, huge body). */
export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/** The database is unreachable: 503 with Retry-After, so clients and load balancers wait and retry. */
export function sendUnavailable(res: ServerResponse): void {
  if (res.headersSent) return void res.end();
  const retryAfter = UNAVAILABLE_RETRY_SECONDS;
  sendJson(res, 503, { errors: [{ message: UNAVAILABLE_MESSAGE, extensions: { code: 'SERVICE_UNAVAILABLE', retryAfter } }] }, { 'retry-after': String(retryAfter) });
}

/**
 * The id the caller sent in X-Request-Id, when it is a sane one. Only logged beside ours: two
 * callers (or one, twice at once) may send the same, so nothing is keyed by it.
 */
export function clientRequestIdOf(req: IncomingMessage): string | undefined {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : undefined;
}

/** The request's URL, or null when its target is not one (`//[::1`, `//host:99999`). */
export function requestUrl(req: IncomingMessage): URL | null {
  return URL.canParse(req.url ?? '/', 'http://localhost') ? new URL(req.url ?? '/', 'http://localhost') : null;
}

export function cookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key !== name) continue;
    const value = rest.join('=');
    // Badly encoded, it is kept as sent: it matches no session and is refused like any unknown one.
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return null;
}
