/**
 * Rollups against the raw samples they summarize: every tier gives what aggregating the raw
 * samples by hand gives, and a series that crosses the seams between hour rollups, minute
 * rollups and raw samples has every bucket, each counted once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '../../src/db/orm.js';
import { pruneRollups, rollUp, watermarks } from '../../src/metrics/rollups.js';
import { bucketWidth, planSeries } from '../../src/metrics/series.js';
import { MetricAggregate } from '../../src/metrics/types.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const em = () => server.app.orm.em.fork() as EntityManager;

const HOUR = 3_600_000;
const NAME = 'rolled_metric';
// Four whole hours ending at least two hours ago: all of it within the raw retention. `base` is
// on a 2 h boundary so that buckets of every width tested (up to 2 h) start at it, whatever the
// hour the test runs in.
const base = Math.floor(Date.now() / (2 * HOUR)) * 2 * HOUR - 6 * HOUR;
const SERIES = [
  { service: 'svc-a', instance: 'h1' },
  { service: 'svc-a', instance: 'h2' },
  { service: 'svc-b', instance: null },
];

interface Raw { service: string; instance: string | null; time: number; value: number }
const raw: Raw[] = [];
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
for (const [s, series] of SERIES.entries()) {
  // irregular spacing (3 to 17 s) and spread values, different per series
  for (let time = base + s * 1000; time < base + 4 * HOUR; time += 3000 + Math.floor(random() * 14_000)) {
    raw.push({ ...series, time, value: Math.round(random() * 1000 * (s + 1)) / 10 });
  }
}

/** PostgreSQL's percentile_cont: linear interpolation at p × (n − 1). */
function percentileCont(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

const AGG: Record<string, (values: number[]) => number> = {
  AVG: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  MIN: (v) => Math.min(...v),
  MAX: (v) => Math.max(...v),
  P95: (v) => percentileCont(v, 0.95),
};

/** The series by hand from the raw samples: [service, instance, bucket start, value]. */
function expected(from: number, to: number, widthSeconds: number, aggregate: string): Array<[string, string | null, string, number]> {
  const width = widthSeconds * 1000;
  const groups = new Map<string, { service: string; instance: string | null; bucket: number; values: number[] }>();
  for (const sample of raw) {
    if (sample.time < from || sample.time >= to) continue;
    const bucket = Math.floor(sample.time / width) * width;
    const key = `${sample.service}|${sample.instance}|${bucket}`;
    const group = groups.get(key) ?? { service: sample.service, instance: sample.instance, bucket, values: [] };
    group.values.push(sample.value);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => a.service.localeCompare(b.service) || (a.instance ?? '').localeCompare(b.instance ?? '') || a.bucket - b.bucket)
    .map((g) => [g.service, g.instance, new Date(g.bucket).toISOString(), AGG[aggregate](g.values)]);
}

const QUERY = `query ($n: String!, $f: DateTime!, $t: DateTime, $b: Int, $a: MetricAggregate) {
  metricSeries(name: $n, from: $f, to: $t, bucketSeconds: $b, aggregate: $a) { service instance time value } }`;

async function series(from: number, to: number, width: number | null, aggregate: string) {
  const { metricSeries } = await server.gqlOk(QUERY, {
    n: NAME, f: new Date(from).toISOString(), t: new Date(to).toISOString(), b: width, a: aggregate,
  }, server.adminToken);
  return metricSeries.map((p: any) => [p.service, p.instance, p.time, p.value]);
}

function expectSame(actual: Array<[string, string | null, string, number]>, wanted: Array<[string, string | null, string, number]>) {
  expect(actual.map(([s, i, t]) => [s, i, t])).toEqual(wanted.map(([s, i, t]) => [s, i, t]));
  actual.forEach(([, , time, value], n) => expect(value, time).toBeCloseTo(wanted[n][3], 6));
}

beforeAll(async () => {
  server = await startTestServer();
  for (let i = 0; i < raw.length; i += 10_000) {
    await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', {
      s: raw.slice(i, i + 10_000).map((r) => ({ name: NAME, ...r, time: new Date(r.time).toISOString() })),
    }, server.adminToken);
  }
});
afterAll(() => server?.stop());

describe('rollups', () => {
  it('should equal the raw aggregate of every minute and every hour', async () => {
    await em().execute('delete from metric_rollup_state');
    // Rolled as of 2 h 32 min in: hours up to 2 h, minutes up to 2 h 30 min.
    await rollUp(em(), new Date(base + 2 * HOUR + 32 * 60_000));
    const marks = await watermarks(em());
    expect(marks.hour?.getTime()).toBe(base + 2 * HOUR);
    expect(marks.minute?.getTime()).toBe(base + 2.5 * HOUR);

    for (const [tier, width, until] of [['minute', 60, base + 2.5 * HOUR], ['hour', 3600, base + 2 * HOUR]] as const) {
      const rows = await em().execute(
        `select service, instance, bucket, samples, sum, min, max, p95 from metric_rollups_${tier} where name = ?
          order by service, instance nulls first, bucket`, [NAME]);
      const bucketsBy = (aggregate: string) => expected(base, until, width, aggregate);
      expect(rows.map((r: any) => [r.service, r.instance, new Date(r.bucket).toISOString()])).toEqual(bucketsBy('AVG').map(([s, i, t]) => [s, i, t]));
      for (const [column, aggregate] of [['min', 'MIN'], ['max', 'MAX'], ['p95', 'P95']]) {
        bucketsBy(aggregate).forEach(([, , time, value], n) => expect(rows[n][column], `${tier} ${column} ${time}`).toBeCloseTo(value, 9));
      }
      bucketsBy('AVG').forEach(([, , time, value], n) => expect(rows[n].sum / rows[n].samples, `${tier} avg ${time}`).toBeCloseTo(value, 9));
    }
  });

  it('should be picked by range and bucket, with no gap or overlap at the seams', async () => {
    const from = base;
    const to = base + 4 * HOUR;
    const marks = await watermarks(em());
    // 2 h buckets: the second straddles hour rollups, minute rollups and raw samples.
    expect(planSeries(new Date(from), new Date(to), 7200, MetricAggregate.AVG, marks).map((s) => [s.tier, s.from.getTime() - base, s.to.getTime() - base]))
      .toEqual([['hour', 0, 2 * HOUR], ['minute', 2 * HOUR, 2.5 * HOUR], ['raw', 2.5 * HOUR, 4 * HOUR]]);
    for (const aggregate of ['AVG', 'MIN', 'MAX']) {
      for (const width of [60, 600, 3600, 7200]) expectSame(await series(from, to, width, aggregate), expected(from, to, width, aggregate));
    }
    // P95 comes from a tier only at its own width; others read raw samples.
    expect(planSeries(new Date(from), new Date(to), 3600, MetricAggregate.P95, marks).map((s) => s.tier)).toEqual(['hour', 'raw']);
    expect(planSeries(new Date(from), new Date(to), 60, MetricAggregate.P95, marks).map((s) => s.tier)).toEqual(['minute', 'raw']);
    expect(planSeries(new Date(from), new Date(to), 600, MetricAggregate.P95, marks).map((s) => s.tier)).toEqual(['raw']);
    for (const width of [60, 600, 3600]) expectSame(await series(from, to, width, 'P95'), expected(from, to, width, 'P95'));
    // A range ending inside an hour: hour rollups up to its last whole hour, then finer data.
    const inside = base + HOUR + 20 * 60_000 + 7000;
    expect(planSeries(new Date(from), new Date(inside), 3600, MetricAggregate.AVG, marks).map((s) => [s.tier, s.to.getTime() - base]))
      .toEqual([['hour', HOUR], ['minute', HOUR + 20 * 60_000], ['raw', inside - base]]);
    expectSame(await series(from, inside, 3600, 'AVG'), expected(from, inside, 3600, 'AVG'));
  });

  it('should keep answering from the rollups once the raw samples are gone', async () => {
    await rollUp(em(), new Date(base + 4 * HOUR + 3 * 60_000));
    await em().execute('delete from metrics where name = ?', [NAME]);
    const from = base;
    const to = base + 4 * HOUR;
    for (const aggregate of ['AVG', 'MAX', 'P95']) expectSame(await series(from, to, 3600, aggregate), expected(from, to, 3600, aggregate));
    expectSame(await series(from, to, 600, 'MIN'), expected(from, to, 600, 'MIN'));
    // The default width for a day (87 s) rounds up to whole minutes: served by the minute tier.
    expectSame(await series(to - 24 * HOUR, to, null, 'AVG'), expected(to - 24 * HOUR, to, 120, 'AVG'));
  });

  it('should prune each tier after its own retention', async () => {
    await em().execute(`update metric_rollups_minute set bucket = bucket - interval '40 days' where name = ?`, [NAME]);
    await em().execute(`update metric_rollups_hour set bucket = bucket - interval '40 days' where name = ?`, [NAME]);
    await pruneRollups(em(), { minute: 35, hour: 400, day: 400 });
    const [{ minutes }] = await em().execute('select count(*)::int as minutes from metric_rollups_minute where name = ?', [NAME]);
    const [{ hours }] = await em().execute('select count(*)::int as hours from metric_rollups_hour where name = ?', [NAME]);
    expect(minutes).toBe(0);
    expect(hours).toBe(4 * SERIES.length);
  });

  it('should merge whole days of hour rollups into day rollups and read long ranges from them', async () => {
    const DAY = 24 * HOUR;
    const day = Math.floor(base / DAY) * DAY;
    const hours: Array<{ service: string; instance: string | null; bucket: number; samples: number; sum: number; min: number; max: number }> = [];
    for (const series of [SERIES[0], SERIES[2]]) {
      for (let bucket = day - 3 * DAY, h = 0; bucket < day + 6 * HOUR; bucket += HOUR, h++) {
        const value = 10 + ((h * 37) % 23) + (series.instance ? 0 : 100);
        hours.push({ ...series, bucket, samples: 1 + (h % 5), sum: (1 + (h % 5)) * value, min: value - (h % 3), max: value + 2 });
      }
    }
    for (const row of hours) {
      await em().execute('insert into metric_rollups_hour (name, service, instance, bucket, samples, sum, min, max, p95) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ['daily_metric', row.service, row.instance, new Date(row.bucket), row.samples, row.sum, row.min, row.max, row.max]);
    }
    await em().execute(`delete from metric_rollup_state where tier = 'day'`);
    await em().execute(`update metric_rollup_state set rolled_until = ? where tier = 'hour'`, [new Date(day + 6 * HOUR)]);
    await rollUp(em(), new Date(day + 6 * HOUR + 3 * 60_000));
    // days go as far as the hour tier's last whole day, not into the day it is still writing
    expect((await watermarks(em())).day?.getTime()).toBe(day);

    /** By hand from the hour rows: [service, instance, bucket, AVG, MIN, MAX] per `width`. */
    const merged = (from: number, to: number, width: number) => {
      const groups = new Map<string, { service: string; instance: string | null; bucket: number; samples: number; sum: number; min: number; max: number }>();
      for (const row of hours.filter((r) => r.bucket >= from && r.bucket < to)) {
        const bucket = Math.floor(row.bucket / width) * width;
        const key = `${row.service}|${row.instance}|${bucket}`;
        const group = groups.get(key) ?? { ...row, bucket, samples: 0, sum: 0, min: Infinity, max: -Infinity };
        groups.set(key, { ...group, samples: group.samples + row.samples, sum: group.sum + row.sum, min: Math.min(group.min, row.min), max: Math.max(group.max, row.max) });
      }
      return [...groups.values()].sort((a, b) => a.service.localeCompare(b.service) || (a.instance ?? '').localeCompare(b.instance ?? '') || a.bucket - b.bucket);
    };
    const days = await em().execute(`select service, instance, bucket, samples, sum, min, max, p95 from metric_rollups_day where name = 'daily_metric' order by service, instance nulls first, bucket`);
    expect(days.map((r: any) => [r.service, r.instance, new Date(r.bucket).getTime(), r.samples, r.sum, r.min, r.max, r.p95]))
      .toEqual(merged(day - 3 * DAY, day, DAY).map((g) => [g.service, g.instance, g.bucket, g.samples, g.sum, g.min, g.max, null]));

    // Three days from the day tier, the fourth (still being written) from the hours: no gap, nothing twice.
    const from = day - 3 * DAY;
    const to = day + 6 * HOUR;
    expect(planSeries(new Date(from), new Date(to), 86_400, MetricAggregate.AVG, await watermarks(em())).map((s) => [s.tier, s.from.getTime(), s.to.getTime()]).slice(0, 2))
      .toEqual([['day', from, day], ['hour', day, to]]);
    const read = async (aggregate: string) => (await server.gqlOk(QUERY, { n: 'daily_metric', f: new Date(from).toISOString(), t: new Date(to).toISOString(), b: 86_400, a: aggregate }, server.adminToken))
      .metricSeries.map((p: any) => [p.service, p.instance, new Date(p.time).getTime(), p.value]);
    const wanted = merged(from, to, DAY);
    expect(await read('AVG')).toEqual(wanted.map((g) => [g.service, g.instance, g.bucket, expect.closeTo(g.sum / g.samples, 9)]));
    expect(await read('MIN')).toEqual(wanted.map((g) => [g.service, g.instance, g.bucket, g.min]));
    expect(await read('MAX')).toEqual(wanted.map((g) => [g.service, g.instance, g.bucket, g.max]));
    // The day tier keeps no p95; a year's default width is whole days.
    expect(planSeries(new Date(from), new Date(to), 86_400, MetricAggregate.P95, await watermarks(em())).map((s) => s.tier)).toEqual(['raw']);
    expect(bucketWidth(new Date(to - 365 * DAY), new Date(to), null)).toBe(86_400);
    expect(bucketWidth(new Date(to - 30 * DAY), new Date(to), null)).toBe(3_600);
  });
});
