/**
 * Serves the built dashboard (SvelteKit's adapter-node `handler.js`) from this process, for
 * every path the API does not own. Loaded on the first such request, so API-only use and
 * start-up never pay for it; without a build, those paths answer 404 saying how to build it.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../core/logger.js';
import { sendJson } from './replies.js';

type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export type DashboardRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function dashboardRoute(buildDir: string, logger: Logger): DashboardRoute {
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
    await new Promise<void>((resolve) => {
      res.once('close', resolve);
      handler(req, res, () => {
        sendJson(res, 404, { error: 'Not found' });
      });
    });
  };
}
