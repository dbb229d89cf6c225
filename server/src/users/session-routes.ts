/**
 * `/api/session`: the dashboard's sign-in and sign-out. The session token lives in an
 * HttpOnly cookie, so page scripts never hold it; GraphQL over HTTP and WebSocket read the
 * same cookie. POST `{email, password}` signs in; DELETE revokes the session and clears it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppServices } from '../app/context.js';
import { createContext } from '../app/context.js';
import type { Viewer } from '../core/viewer.js';
import { auditOf } from '../audit/recorder.js';
import { AppError, errorCode, HTTP_STATUS_OF } from '../core/errors.js';
import { BodyTooLargeError, readBody, sendJson } from '../http/replies.js';
import { clientIp } from '../http/security.js';
import { login, signOut } from './service.js';

export const SESSION_COOKIE = 'wf_session';
const BODY_LIMIT_BYTES = 16 * 1024;

/** The Set-Cookie value for a session token; `''` with max age 0 clears it. */
export function sessionCookie(req: IncomingMessage, value: string, maxAgeSeconds: number): string {
  const secure = req.headers['x-forwarded-proto'] === 'https' || 'encrypted' in req.socket ? '; Secure' : '';
  // Strict: the browser never sends it with a request another site starts (forms, WebSockets).
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function sendError(res: ServerResponse, code: string, message: string, retryAfter?: unknown): void {
  const headers: Record<string, string> = typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {};
  sendJson(res, HTTP_STATUS_OF[code] ?? 500, { error: { code, message, ...(headers['retry-after'] ? { retryAfter } : {}) } }, headers);
}

async function readCredentials(req: IncomingMessage): Promise<{ email: string; password: string } | null> {
  // A JSON body cannot come from a plain cross-site form, which keeps sign-in CSRF-proof.
  if (!String(req.headers['content-type']).startsWith('application/json')) return null;
  try {
    const body = JSON.parse(await readBody(req, BODY_LIMIT_BYTES)) as unknown;
    if (typeof body !== 'object' || body === null) return null;
    const { email, password } = body as Record<string, unknown>;
    return typeof email === 'string' && typeof password === 'string' ? { email, password } : null;
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof BodyTooLargeError) return null;
    throw error;
  }
}

export async function sessionRoute(
  services: AppServices,
  req: IncomingMessage,
  res: ServerResponse,
  viewer: () => Promise<Viewer | null>,
  requestId: string,
): Promise<void> {
  try {
    if (req.method === 'POST') {
      const credentials = await readCredentials(req);
      if (!credentials) return sendError(res, 'BAD_USER_INPUT', 'Send JSON with "email" and "password"');
      const context = createContext(services, null, requestId, clientIp(req, services.config.trustProxyHops));
      // Audited as the GraphQL `login` is (audit/recorder.ts wraps only GraphQL mutations).
      context.hooks = [auditOf(context, 'login', { email: credentials.email, password: credentials.password }, null)];
      const session = await login(context, credentials.email, credentials.password);
      const maxAge = services.config.sessionTtlHours * 3600;
      const user = { email: session.user.email, name: session.user.name, role: session.user.role };
      return sendJson(res, 200, { user }, { 'set-cookie': sessionCookie(req, session.token, maxAge) });
    }
    if (req.method === 'DELETE') {
      const current = await viewer();
      if (current) await signOut(createContext(services, current, requestId));
      return sendJson(res, 200, { signedOut: true }, { 'set-cookie': sessionCookie(req, '', 0) });
    }
    sendJson(res, 405, { error: { code: 'BAD_REQUEST', message: 'Use POST to sign in or DELETE to sign out' } }, { allow: 'POST, DELETE' });
  } catch (error) {
    if (error instanceof AppError) return sendError(res, errorCode(error), error.message, error.extensions.retryAfter);
    throw error;
  }
}
