/**
 * The GraphQL explorer a browser gets at `GET /graphql`: Altair, served from the npm
 * package's own files, so it works with no internet access.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getDistDirectory, renderAltair } from 'altair-static';
import { strictContentSecurityPolicy } from './http-security.js';
import { sendStaticFile } from './static-files.js';

export const EXPLORER_ASSETS = '/graphql/explorer/';

export function wantsExplorer(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && !req.url?.includes('query=');
}

export function sendExplorer(req: IncomingMessage, res: ServerResponse): void {
  // The Host header lands in an inline script and in the CSP: only a plain host[:port] may.
  const host = /^[\w.-]+(:\d{1,5})?$|^\[[\da-fA-F:.]+\](:\d{1,5})?$/.test(req.headers.host ?? '') ? req.headers.host! : 'localhost';
  const secure = req.headers['x-forwarded-proto'] === 'https';
  const subscriptions = `${secure ? 'wss' : 'ws'}://${host}/graphql`;
  const nonce = randomBytes(16).toString('base64');
  const html = renderAltair({
    cspNonce: nonce,
    baseURL: EXPLORER_ASSETS,
    endpointURL: '/graphql',
    subscriptionsEndpoint: subscriptions,
    initialSubscriptionRequestHandlerId: 'graphql-ws',
    initialQuery: '{\n  viewer { id email role }\n}\n',
    initialSettings: { 'plugin.list': [], 'alert.disableUpdateNotification': true, 'alert.disableWarnings': true } as never,
    disableAccount: true,
  });
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': strictContentSecurityPolicy(nonce, [subscriptions]),
  });
  res.end(html);
}

export async function sendExplorerAsset(res: ServerResponse, relative: string): Promise<boolean> {
  return sendStaticFile(res, getDistDirectory(), relative, 86400);
}
