/** disk_io_percent: which disk, and its busy share from /proc/diskstats. */
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deviceNumbers, diskBusy, diskFor, parseDiskStats } from '../../src/metrics/disk-io.js';
import { createLogger } from '../../src/core/logger.js';

const logger = createLogger('silent');
const stats = (busyMs: number, device = 'vda', major = 254, minor = 0) =>
  ` 7 0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n ${major} ${minor} ${device} 207790 24551 5950282 284629 486998 561465 43191184 404049 0 ${busyMs} 738445 168907 1778 10992768 37203 158508 12562\n`;

describe('disk_io_percent', () => {
  it('should read the busy time column of /proc/diskstats', () => {
    expect(parseDiskStats(stats(102640))).toEqual([
      { major: 7, minor: 0, device: 'loop0', busyMs: 0 },
      { major: 254, minor: 0, device: 'vda', busyMs: 102640 },
    ]);
  });

  it('should decode device numbers as Linux encodes them', () => {
    expect(deviceNumbers(254 * 256)).toEqual({ major: 254, minor: 0 });
    expect(deviceNumbers((259 << 8) | 1)).toEqual({ major: 259, minor: 1 });
    // minors above 255 live in the upper bits
    expect(deviceNumbers((8 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12))).toEqual({ major: 8, minor: 300 });
  });

  it('should pick the device holding the data directory on this machine', () => {
    const lines = parseDiskStats(readFileSync('/proc/diskstats', 'utf8'));
    const disk = diskFor(process.cwd(), lines);
    const own = deviceNumbers(statSync(process.cwd()).dev);
    const listed = lines.some((l) => l.major === own.major && l.minor === own.minor);
    // the directory's own block device when it has one, else the busiest real disk
    if (listed) expect([disk?.major, disk?.minor]).toEqual([own.major, own.minor]);
    else expect(disk?.device).not.toMatch(/^(loop|zram|ram)/);
  });

  it('should give the busy share of wall time between two samples, at most 100', () => {
    let busy = 1000;
    let clock = 0;
    const own = deviceNumbers(statSync(process.cwd()).dev);
    const sample = diskBusy(process.cwd(), logger, () => parseDiskStats(stats(busy, 'data', own.major, own.minor)), () => clock);
    busy += 250;
    clock += 1000;
    expect(sample()).toBe(25);
    busy += 3000; // merged requests can count more than wall time
    clock += 1000;
    expect(sample()).toBe(100);
    clock += 1000;
    expect(sample()).toBe(0);
  });

  it('should not sample where there is no /proc/diskstats', () => {
    expect(diskBusy(process.cwd(), logger, () => null)()).toBeNull();
  });
});
