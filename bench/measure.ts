/** autocannon runs and the figures the benchmarks report from them. */
import autocannon from 'autocannon';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Target } from './processes.js';

export interface Figures {
  target: string;
  connections: number;
  seconds: number;
  requestsPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** non-2xx responses and socket errors, as a share of all requests */
  errorRate: number;
  requests: number;
  /** CPU time (user + system) per answered request: the target's Node process, and its PostgreSQL backends */
  nodeCpuMs: number;
  databaseCpuMs: number;
}

/** CPU time (ms) a process has used so far, from /proc (Linux). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return Number.NaN;
  }
}

/** CPU time (ms) of a process and its child processes (the workers of a `WORKERS` > 1 server) so far. */
export function treeCpuMs(pid: number): number {
  let total = cpuMs(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid …
    if (Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]) === pid) total += cpuMs(Number(entry));
  }
  return total;
}

/** Resident set size (KB) of a process now, from /proc (Linux). */
export function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]);
}

/**
 * Starts counting the CPU time of a target's PostgreSQL backends; the function it returns reads
 * the count (ms). Backends that appear later count from zero; ones that leave are lost (pools keep theirs open).
 */
export async function backendCpuStopwatch(target: Pick<Target, 'backendPids'>): Promise<() => Promise<number>> {
  const before = new Map((await target.backendPids()).map((pid) => [pid, cpuMs(pid)]));
  return async () => (await target.backendPids()).reduce((sum, pid) => sum + cpuMs(pid) - (before.get(pid) ?? 0), 0);
}

export interface Load {
  path: string;
  method?: 'GET' | 'POST';
  /** a function: a fresh body for every request */
  body?: string | (() => string);
}

/** Exact percentile of sorted values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function measure(target: Target, load: Load, connections: number, seconds: number): Promise<Figures> {
  const times: number[] = [];
  const databaseCpu = await backendCpuStopwatch(target);
  const nodeBefore = treeCpuMs(target.pid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${target.url}${load.path}`,
        method: load.method ?? 'GET',
        headers: target.headers,
        connections,
        duration: seconds,
        ...(typeof load.body === 'function'
          ? { requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, body: (load.body as () => string)() }) }] }
          : { body: load.body }),
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    // autocannon's own histogram has no p95, so every response time is kept.
    instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime));
  });
  const nodeCpu = treeCpuMs(target.pid) - nodeBefore;
  const databaseCpuUsed = await databaseCpu();
  times.sort((a, b) => a - b);
  const total = result.requests.total;
  const failed = result.non2xx + result.errors + result.timeouts;
  return {
    target: target.name,
    connections,
    seconds,
    requestsPerSecond: total / seconds,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    p99: percentile(times, 99),
    errorRate: total + result.errors ? failed / (total + result.errors) : 0,
    requests: total,
    nodeCpuMs: nodeCpu / Math.max(1, total),
    databaseCpuMs: databaseCpuUsed / Math.max(1, total),
  };
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} cores (${cpu}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, Node ${process.version}`;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const fixed = (value: number, digits = 1): string => value.toFixed(digits);
