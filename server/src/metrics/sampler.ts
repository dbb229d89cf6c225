/**
 * Every replica measures itself every `SAMPLE_INTERVAL_SECONDS` (service `api`, instance =
 * the replica's id), stores the samples, announces them, and writes its heartbeat, which is
 * how the other replicas know it is alive.
 */
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AppServices } from '../app/context.js';
import type { EntityManager } from '../db/orm.js';
import { poolUsage } from '../db/orm.js';
import { repeat } from '../core/repeat.js';
import { deleteHeartbeat, writeHeartbeat } from '../health/rows.js';
import { diskBusy } from './disk-io.js';
import { storeSamples, type Sample } from './ingest.js';
import type { RequestStats } from './request-stats.js';

export const SELF_SERVICE = 'api';

interface CpuTimes {
  busy: number;
  total: number;
}

function hostCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, irq, idle } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + irq + idle;
  }
  return { busy, total };
}

const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : 0);

/** Share of the data volume in use: DATA_DIR when it exists (embedded mode), else the working directory. */
async function diskPercent(dataDir: string): Promise<number> {
  const stats = await statfs(dataDir).catch(() => statfs(process.cwd()));
  return percent(stats.blocks - stats.bavail, stats.blocks);
}

export function startSampler(app: AppServices, requests: RequestStats) {
  const { config } = app;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let lastCpu = hostCpuTimes();
  let lastProcessCpu = process.cpuUsage();
  let lastWall = performance.now();
  const diskIo = diskBusy(config.dataDir, app.logger);

  const measure = async (): Promise<Sample[]> => {
    const time = new Date();
    const cpu = hostCpuTimes();
    const processCpu = process.cpuUsage(lastProcessCpu);
    const wallMs = performance.now() - lastWall;
    const window = requests.take();
    const pool = poolUsage(app.orm);
    const values: Record<string, number> = {
      cpu_percent: percent(cpu.busy - lastCpu.busy, cpu.total - lastCpu.total),
      process_cpu_percent: percent((processCpu.user + processCpu.system) / 1000, wallMs * os.availableParallelism()),
      memory_percent: percent(os.totalmem() - os.freemem(), os.totalmem()),
      process_memory_mb: Math.round(process.memoryUsage.rss() / 1048576),
      // p99 of how late a 10 ms timer fired: what a request waits before it is even looked at
      event_loop_lag_ms: Math.round((loopDelay.percentile(99) / 1e6) * 100) / 100,
      requests_per_second: Math.round((window.requests / window.seconds) * 100) / 100,
      response_time_p95_ms: Math.round(window.p95Ms * 100) / 100,
      error_rate_percent: percent(window.failed, window.requests),
      db_connections_percent: percent(pool.used, pool.max),
      disk_percent: await diskPercent(config.dataDir),
      ws_connections: app.liveConnections.count,
    };
    const diskIoPercent = diskIo();
    if (diskIoPercent !== null) values.disk_io_percent = diskIoPercent;
    lastCpu = cpu;
    lastProcessCpu = process.cpuUsage();
    lastWall = performance.now();
    loopDelay.reset();
    return Object.entries(values).map(([name, value]) => ({ name, service: SELF_SERVICE, instance: config.instanceId, time, value }));
  };

  writeHeartbeat(app.orm.em.fork() as EntityManager, config.instanceId).catch((error) => app.logger.warn({ err: error }, 'first heartbeat failed'));
  const job = repeat('sampler', config.sampleIntervalSeconds * 1000, async () => {
    const em = app.orm.em.fork() as EntityManager;
    const samples = await measure();
    await writeHeartbeat(em, config.instanceId);
    await storeSamples(em, app.bus, samples);
  }, app);

  return {
    async stop() {
      await job.stop();
      loopDelay.disable();
      // A replica that stops cleanly is gone, not down.
      await deleteHeartbeat(app.orm.em.fork(), config.instanceId).catch((error) => {
        app.logger.warn({ err: error }, 'could not remove this replica\'s heartbeat: other replicas will report it down until it is forgotten');
      });
    },
  };
}
