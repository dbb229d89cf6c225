/**
 * Health of the cluster as one replica sees it. The database is essential (down →
 * unhealthy); optional parts such as Redis, and the other replicas (known from their
 * heartbeats), make the report degraded when down, not unhealthy.
 */
import type { AppServices } from '../app/context.js';
import { heartbeatAges, ping } from './rows.js';
import { ComponentHealth, Health, MAX_LISTED_REPLICAS, type ComponentCheck, type HealthChecks } from './types.js';

const CHECK_TIMEOUT_MS = 2_000;
export const REPLICA_PREFIX = 'replica:';

async function timed(name: string, check: ComponentCheck): Promise<ComponentHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { name, status: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100, detail: null };
  } catch (error) {
    return { name, status: 'down', latencyMs: null, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A replica is down once it missed three heartbeats (plus slack for a busy machine). One
 * that stopped cleanly removed its heartbeat and is simply gone.
 */
export function heartbeatDeadlineSeconds(sampleIntervalSeconds: number): number {
  return 3 * sampleIntervalSeconds + 5;
}

async function replicaComponents(app: AppServices): Promise<ComponentHealth[]> {
  const rows = await heartbeatAges(app.orm.em.getConnection(), MAX_LISTED_REPLICAS);
  const deadline = heartbeatDeadlineSeconds(app.config.sampleIntervalSeconds);
  return rows.map((row) => ({
    name: `${REPLICA_PREFIX}${row.instance}`,
    status: row.age <= deadline ? 'up' : 'down',
    latencyMs: null,
    detail: row.age <= deadline ? null : `no heartbeat for ${Math.round(row.age)} s`,
  }));
}

export async function checkHealth(app: AppServices, checks: HealthChecks): Promise<Health> {
  const [database, ...optional] = await Promise.all([
    timed('database', async () => {
      // A health probe may be the first to see an outage.
      await ping(app.orm.em.getConnection()).catch((error) => {
        app.outage.noted(error);
        throw error;
      });
    }),
    ...Object.entries(checks.optional).map(([name, check]) => timed(name, check)),
  ]);
  const replicas = database.status === 'up' ? await replicaComponents(app).catch(() => []) : [];
  const api: ComponentHealth = { name: 'api', status: 'up', latencyMs: null, detail: null };
  const components = [api, database, ...optional, ...replicas];
  const status = database.status !== 'up' ? 'unhealthy' : components.some((c) => c.status !== 'up') ? 'degraded' : 'healthy';
  return { status, components, instance: app.config.instanceId, checkedAt: new Date() };
}

/** What `healthChanged` compares: the status of each component, not latencies. */
export function healthSignature(health: Health): string {
  return JSON.stringify([health.status, health.components.map((c) => [c.name, c.status])]);
}
