/**
 * Health of this replica's parts. The database is essential (down → unhealthy); optional
 * parts such as Redis make the replica not ready and the report degraded, not unhealthy.
 */
import type { AppServices } from '../context.js';
import { ComponentHealth, Health } from './types.js';

const CHECK_TIMEOUT_MS = 2_000;

export type ComponentCheck = () => Promise<void>;

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

/** Checks that `/api/ready` and `health` use besides the database: registered by the app. */
export interface HealthChecks {
  optional: Record<string, ComponentCheck>;
}

export async function checkHealth(app: AppServices, checks: HealthChecks): Promise<Health> {
  const [database, ...optional] = await Promise.all([
    timed('database', async () => {
      await app.orm.em.getConnection().execute('select 1');
    }),
    ...Object.entries(checks.optional).map(([name, check]) => timed(name, check)),
  ]);
  const api: ComponentHealth = { name: 'api', status: 'up', latencyMs: null, detail: null };
  const components = [api, database, ...optional];
  const status = database.status !== 'up' ? 'unhealthy' : optional.some((c) => c.status !== 'up') ? 'degraded' : 'healthy';
  return { status, components, instance: app.config.instanceId, checkedAt: new Date() };
}
