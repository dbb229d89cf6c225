/**
 * `GET /status` (HTML, no script) and `GET /api/status` (the same as JSON). `STATUS_PAGE`
 * decides who sees them: `public` anyone, `private` (the default) a signed-in session cookie or
 * bearer token (else 401), `off` nobody (404).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppServices } from '../app/context.js';
import type { Viewer } from '../core/viewer.js';
import { sendJson } from '../http/replies.js';
import { publicStatus } from './public.js';
import { renderSignIn, renderStatusPage } from './render.js';
import { maySeeStatus } from './service.js';

/** A public page may be cached briefly by browsers and proxies; a private one never. */
const PUBLIC_MAX_AGE_SECONDS = 15;

function sendHtml(res: ServerResponse, status: number, body: (nonce: string) => string, cacheControl: string): void {
  const nonce = randomBytes(16).toString('base64');
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': cacheControl,
    // Nothing but the one stylesheet: no script, image, font, frame or form target at all.
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  });
  res.end(body(nonce));
}

export async function statusRoute(app: AppServices, req: IncomingMessage, res: ServerResponse, format: 'html' | 'json', viewer: () => Promise<Viewer | null>): Promise<void> {
  const mode = app.config.statusPage;
  if (mode === 'off') return sendJson(res, 404, { error: 'Not found' });
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'Method not allowed' }, { allow: 'GET, HEAD' });
  if (!maySeeStatus(mode, mode === 'public' ? null : await viewer())) {
    if (format === 'json') return sendJson(res, 401, { errors: [{ message: 'Sign in to see the status page (STATUS_PAGE=private)', extensions: { code: 'UNAUTHENTICATED' } }] });
    return sendHtml(res, 401, renderSignIn, 'no-store');
  }
  const cacheControl = mode === 'public' ? `public, max-age=${PUBLIC_MAX_AGE_SECONDS}` : 'private, no-store';
  const status = await publicStatus(app);
  if (format === 'json') return sendJson(res, 200, status, { 'cache-control': cacheControl });
  sendHtml(res, 200, (nonce) => renderStatusPage(status, nonce), cacheControl);
}
