/**
 * `GET /api/live` (liveness: the process serves; no dependency checks), `GET /api/health` (is the
 * database answering) and `GET /api/ready` (can serve).
 */
import type { ServerResponse } from 'node:http';
import type { AppServices } from '../app/context.js';
import { checkHealth, REPLICA_PREFIX } from './service.js';
import type { HealthChecks } from './types.js';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Liveness for orchestrators: answering at all is the check, so a database outage does not restart the pod. */
export function liveRoute(res: ServerResponse): void {
  sendJson(res, 200, { live: true });
}

export async function healthRoute(app: AppServices, checks: HealthChecks, res: ServerResponse): Promise<void> {
  const health = await checkHealth(app, checks);
  const services = Object.fromEntries(health.components.map((c) => [c.name, c.status]));
  // The same status as the `health` query; only an unhealthy replica (database down) fails the probe.
  const failed = health.components.filter((c) => c.status !== 'up');
  sendJson(res, health.status === 'unhealthy' ? 503 : 200, {
    status: health.status,
    timestamp: health.checkedAt.toISOString(),
    instance: health.instance,
    services,
    ...(failed.length ? { errors: Object.fromEntries(failed.map((c) => [c.name, c.detail])) } : {}),
  });
}

export async function readyRoute(app: AppServices, checks: HealthChecks, res: ServerResponse, draining: boolean): Promise<void> {
  const health = await checkHealth(app, checks);
  // Another replica being down does not stop this one from serving.
  const notReady = health.components.filter((c) => c.status !== 'up' && !c.name.startsWith(REPLICA_PREFIX)).map((c) => c.name);
  if (draining) notReady.push('shutting-down');
  sendJson(res, notReady.length ? 503 : 200, notReady.length ? { ready: false, notReady } : { ready: true });
}
