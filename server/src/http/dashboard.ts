/**
 * Serves the built dashboard (SvelteKit's adapter-node `handler.js`) from this process, for
 * every path the API does not own. Loaded on the first such request, so API-only use and
 * start-up never pay for it; without a build, those paths answer 404 saying how to build it.
 * What the dashboard learns at run time (the Sentry DSN it reports its errors to) it reads
 * from `/api/client-settings`; the page's CSP, fixed at build time, is widened to reach it.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../core/logger.js';
import { sendJson } from './replies.js';

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export type DashboardRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Settings the dashboard reads at start (`GET /api/client-settings`): public by nature, no secrets. */
export interface ClientSettings {
  /** SENTRY_DSN_BROWSER: where the dashboard reports its errors; null: it reports nothing */
  sentryDsn: string | null;
}

export function sendClientSettings(res: ServerResponse, settings: ClientSettings): void {
  sendJson(res, 200, settings, { 'cache-control': 'no-store' });
}

/** Adds `origins` to the connect-src of a CSP header SvelteKit sets. */
function widenConnectSrc(res: ServerResponse, origins: string[]): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => {
    if (name.toLowerCase() === 'content-security-policy' && typeof value === 'string') value = value.replace(/connect-src ([^;]*)/, `connect-src $1 ${origins.join(' ')}`);
    return setHeader(name, value);
  };
}

/** `connectTo`: origins the pages may send requests to besides this server (the Sentry DSN's). */
export function dashboardRoute(buildDir: string, logger: Logger, connectTo: string[] = []): DashboardRoute {
  let loading: Promise<NodeHandler | null> | undefined;
  const load = async (): Promise<NodeHandler | null> => {
    const file = path.join(buildDir, 'handler.js');
    if (!existsSync(file)) {
      logger.warn({ buildDir }, 'dashboard is not built; serving the API only');
      return null;
    }
    const module = (await import(pathToFileURL(file).href)) as { handler: NodeHandler };
    return module.handler;
  };
  const notFound = (res: ServerResponse) =>
    sendJson(res, 404, { error: 'Not found', hint: 'the dashboard is not built: run `npm run build -w client`' });

  return async (req, res) => {
    loading ??= load().catch((error) => {
      logger.error({ err: error }, 'could not load the dashboard');
      return null;
    });
    const handler = await loading;
    if (!handler) return notFound(res);
    if (connectTo.length) widenConnectSrc(res, connectTo);
    await new Promise<void>((resolve) => {
      res.once('close', resolve);
      handler(req, res, () => {
        sendJson(res, 404, { error: 'Not found' });
      });
    });
  };
}
