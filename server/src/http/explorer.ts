/**
 * The GraphQL explorer a browser gets at `GET /graphql`: Altair, served from the npm
 * package's own files, so it works with no internet access. Its assets live under a path
 * named by Altair's version, so browsers may keep them for good (an upgrade changes the path).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { getDistDirectory, renderAltair } from 'altair-static';
import { strictContentSecurityPolicy } from './security.js';
import type { Logger } from '../core/logger.js';
import { precompressedCopy, staticFiles, type StaticFiles } from './static-files.js';

export const EXPLORER_ASSETS = '/graphql/explorer/';
const DIST = getDistDirectory();
const VERSION = (JSON.parse(readFileSync(path.join(DIST, '../../package.json'), 'utf8')) as { version: string }).version;
const BASE_URL = `${EXPLORER_ASSETS}${VERSION}/`;
const CACHE = { maxAgeSeconds: 365 * 86400, immutable: true };

export function wantsExplorer(req: IncomingMessage): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html') && !req.url?.includes('query=');
}

/**
 * The sign-in hint an anonymous visitor sees instead of Altair's "Introspection request failed
 * with: 400" (anonymous callers may not introspect). Forms, not links or script: Altair
 * swallows clicks on links, and the CSP allows no inline script.
 */
const SIGN_IN_HINT = `<dialog open class="wf-sign-in" aria-labelledby="wf-sign-in-title">
  <strong id="wf-sign-in-title">You are not signed in.</strong>
  Queries run anonymously, but the schema (docs, completion) is only for signed-in users: sign
  in to the dashboard and come back here, or add an <code>Authorization: Bearer …</code> header
  (an API token) under Headers and reload the docs.
  <div class="wf-actions">
    <form method="get" action="/login"><input type="hidden" name="next" value="/graphql"><button>Sign in</button></form>
    <form method="dialog"><button>Dismiss</button></form>
  </div>
</dialog>`;
const SIGN_IN_STYLE = `.wf-sign-in { position: fixed; inset: auto 1rem 1rem auto; max-width: 26rem; margin: 0; z-index: 10000;
  font: 14px/1.45 system-ui, sans-serif; padding: 0.9rem 1rem; border: 1px solid #d6dae1; border-radius: 8px;
  background: #fff; color: #1b1f24; box-shadow: 0 4px 16px rgba(0,0,0,.15); }
.wf-sign-in .wf-actions { display: flex; gap: 0.5rem; justify-content: flex-end; margin-top: 0.6rem; }`;

/**
 * `secure`: the browser reached us over HTTPS (directly or through a trusted proxy).
 * `signedIn`: its cookie or token is valid; else the schema is not loaded at start and a
 * sign-in hint shows.
 */
export function sendExplorer(req: IncomingMessage, res: ServerResponse, { secure, signedIn }: { secure: boolean; signedIn: boolean }): void {
  // The Host header lands in an inline script and in the CSP: only a plain host[:port] may.
  const host = /^[\w.-]+(:\d{1,5})?$|^\[[\da-fA-F:.]+\](:\d{1,5})?$/.test(req.headers.host ?? '') ? req.headers.host! : 'localhost';
  const subscriptions = `${secure ? 'wss' : 'ws'}://${host}/graphql`;
  const nonce = randomBytes(16).toString('base64');
  let html = renderAltair({
    cspNonce: nonce,
    baseURL: BASE_URL,
    endpointURL: '/graphql',
    subscriptionsEndpoint: subscriptions,
    initialSubscriptionRequestHandlerId: 'graphql-ws',
    initialQuery: '{\n  viewer { id email role }\n}\n',
    initialSettings: { 'plugin.list': [], 'alert.disableUpdateNotification': true, 'alert.disableWarnings': true },
    // Persisted settings win over what Altair stored in the browser: no third-party (AI)
    // banners ever, and the schema loads at start only for a signed-in visitor.
    persistedSettings: { 'banners.disable': true, 'schema.reloadOnStart': signedIn },
    disableAccount: true,
  });
  if (!signedIn) html = html.replace('</head>', `<style nonce="${nonce}">${SIGN_IN_STYLE}</style></head>`).replace('<body>', `<body>${SIGN_IN_HINT}`);
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': strictContentSecurityPolicy(nonce, [subscriptions]),
  });
  res.end(html);
}

export type ExplorerAssets = (req: IncomingMessage, res: ServerResponse, relativeUrl: string) => Promise<boolean>;

/**
 * Altair's files, compressed once into `cacheDir` on first use (the 3 MB main bundle goes out
 * as 0.8 MB of brotli). Where that folder cannot be written, they go out uncompressed.
 */
export function explorerAssets(cacheDir: string, logger: Logger): ExplorerAssets {
  let files: Promise<StaticFiles> | undefined;
  const prepare = () =>
    (files ??= precompressedCopy(DIST, path.join(cacheDir, `altair-${VERSION}`)).then(
      (dir) => staticFiles(dir, CACHE),
      (error: unknown) => {
        logger.warn({ err: error, cacheDir }, 'could not precompress the explorer; serving it uncompressed');
        return staticFiles(DIST, CACHE);
      },
    ));
  return async (req, res, relativeUrl) => {
    if (!relativeUrl.startsWith(`${VERSION}/`)) return false;
    return (await prepare())(req, res, relativeUrl.slice(VERSION.length + 1));
  };
}
