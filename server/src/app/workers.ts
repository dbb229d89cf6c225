/**
 * `WORKERS` > 1: this process serves nothing itself; it starts that many worker processes
 * (node:cluster) that share its port, each a replica of its own (its own database pool, caches,
 * WebSocket connections and metrics), so one machine's cores all serve. What replicas share
 * goes through Redis and PostgreSQL, as between replicas on different machines (config.ts
 * requires REDIS_URL and DATABASE_URL).
 *
 * The first worker starts alone (migrations, the admin account); the others once it listens.
 * A signal stops every worker (each drains as a single replica does) and then this process,
 * 0 when all exited 0. A worker that exits on its own stops the others, and this process
 * exits non-zero: whatever supervises it restarts the whole, as it would a single replica.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../core/logger.js';

/** Longer than a worker's own 10 s shutdown deadline. */
const STOP_DEADLINE_MS = 12_000;

export function superviseWorkers(count: number, logger: Logger, instanceId: string | undefined): Promise<never> {
  let stopping = false;
  let exitCode = 0;
  const fork = (index: number): Worker =>
    // An INSTANCE_ID set for the replica names each worker apart (heartbeats, metrics).
    cluster.fork(instanceId ? { INSTANCE_ID: `${instanceId}-${index}` } : {});

  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => {
      logger.error({ workers: Object.keys(cluster.workers ?? {}).length }, 'workers did not stop in time');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
  };

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stopping) logger.info({ signal, workers: count }, 'shutting down');
      stopAll();
    });
  }
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      logger.error({ pid: worker.process.pid, code, signal }, 'a worker exited: stopping the others');
      exitCode = code || 1;
      stopAll();
    } else if (code !== 0) {
      exitCode ||= code || 1;
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
  });

  const first = fork(0);
  first.once('listening', () => {
    if (stopping) return;
    for (let index = 1; index < count; index++) fork(index);
  });
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === count) logger.info({ workers: count }, 'all workers are serving');
  });
  // Settled by process.exit only.
  return new Promise<never>(() => undefined);
}
