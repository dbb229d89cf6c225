/**
 * `disk_io_percent`: the share of wall time the disk was busy with I/O (the "time spent doing
 * I/Os" column of /proc/diskstats, like iostat's %util), for the disk holding DATA_DIR — where
 * the embedded PostgreSQL keeps its files. With an external database the server cannot see that
 * database's disk: it measures the disk holding DATA_DIR if it exists, else the working
 * directory (the replica's own disk, as `disk_percent` does), and logs which device it picked.
 * Linux only: elsewhere (no /proc/diskstats) the metric is not sampled.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '../core/logger.js';

export interface DiskLine {
  major: number;
  minor: number;
  device: string;
  /** milliseconds spent doing I/O since boot */
  busyMs: number;
}

/** The lines of /proc/diskstats (the 13th column is the busy time). */
export function parseDiskStats(text: string): DiskLine[] {
  return text.split('\n').flatMap((line) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) return [];
    return [{ major: Number(fields[0]), minor: Number(fields[1]), device: fields[2], busyMs: Number(fields[12]) }];
  });
}

/** Linux's dev_t as stat returns it → major and minor numbers. */
export function deviceNumbers(dev: number): { major: number; minor: number } {
  const d = BigInt(dev);
  return { major: Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)), minor: Number((d & 0xffn) | ((d >> 12n) & ~0xffn)) };
}

const VIRTUAL = /^(loop|ram|zram|sr|fd)\d*$/;

/**
 * The diskstats device holding `dir`: its own device (a disk or a partition), or, when that is
 * not a block device (overlay, tmpfs, a container's root), the busiest real disk since boot.
 */
export function diskFor(dir: string, lines: DiskLine[]): DiskLine | null {
  let dev: number;
  try {
    dev = statSync(dir).dev;
  } catch {
    dev = statSync(process.cwd()).dev;
  }
  const { major, minor } = deviceNumbers(dev);
  const own = lines.find((line) => line.major === major && line.minor === minor);
  if (own) return own;
  const real = lines.filter((line) => !VIRTUAL.test(line.device)).sort((a, b) => b.busyMs - a.busyMs);
  return real[0] ?? null;
}

const DISKSTATS = '/proc/diskstats';

function readLines(): DiskLine[] | null {
  try {
    return parseDiskStats(readFileSync(DISKSTATS, 'utf8'));
  } catch {
    return null;
  }
}

/** Busy share of the data disk between two calls; null when it cannot be measured here. */
export function diskBusy(dataDir: string, logger: Logger, read = readLines, now = () => performance.now()): () => number | null {
  const lines = read();
  const disk = lines && diskFor(dataDir, lines);
  if (!disk) {
    logger.info({ dataDir }, 'disk_io_percent is not sampled: no /proc/diskstats entry for the data disk');
    return () => null;
  }
  logger.info({ device: disk.device, dataDir }, 'disk_io_percent measures this device');
  let last = { busyMs: disk.busyMs, at: now() };
  return () => {
    const line = read()?.find((l) => l.major === disk.major && l.minor === disk.minor);
    if (!line) return null;
    const at = now();
    const elapsed = at - last.at;
    const busy = line.busyMs - last.busyMs;
    last = { busyMs: line.busyMs, at };
    if (!(elapsed > 0)) return null;
    return Math.min(100, Math.max(0, Math.round((busy / elapsed) * 10_000) / 100));
  };
}
