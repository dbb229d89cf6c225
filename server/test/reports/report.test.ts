/**
 * operationsReport on seeded data against figures worked out by hand: samples of a 4-hour
 * period (and the 4 hours before, for the trend), alerts with known firing, acknowledge and
 * resolve times, finished workflows, and a disk filling at 2 points an hour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '../../src/db/orm.js';
import { rollUp } from '../../src/metrics/rollups.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const em = () => server.app.orm.em.fork() as EntityManager;
const sql = (query: string, params: unknown[] = []) => em().execute(query, params);

const MIN = 60_000;
const HOUR = 60 * MIN;
// A whole-hour period that ended two hours ago: settled, so the roller has all of it.
const to = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const from = to - 4 * HOUR;

const REPORT = `query ($f: DateTime!, $t: DateTime!) { operationsReport(from: $f, to: $t) {
  from to errorRatePercent p95Ms p95TrendPercent alertsOpened meanTimeToAcknowledgeSeconds meanTimeToResolveSeconds
  slowQueries { queryId query meanMs } diskPercent capacity { metric service current threshold rule daysUntilThreshold }
  workflowsSucceeded workflowsFailed } }`;
const report = async (token = server.adminToken) => (await server.gqlOk(REPORT, { f: new Date(from).toISOString(), t: new Date(to).toISOString() }, token)).operationsReport;

const samples: Array<[string, string, number, number]> = [];
const sample = (name: string, instance: string, time: number, value: number) => samples.push([name, instance, time, value]);
// error rate: h1 every 15 min 0.5, 0.75, 1, 1.25 (each hour); h2 every 30 min 2; one sample on each edge, outside
const h1 = [0.5, 0.75, 1, 1.25];
for (let t = from, k = 0; t < to; t += 15 * MIN, k++) sample('error_rate_percent', 'h1', t, h1[k % 4]);
for (let t = from; t < to; t += 30 * MIN) sample('error_rate_percent', 'h2', t, 2);
sample('error_rate_percent', 'h1', from - MIN, 100);
sample('error_rate_percent', 'h1', to, 100);
// p95: 100, 110, … 210 every 20 min in the period; 80 throughout the period before
for (let t = from, k = 0; t < to; t += 20 * MIN, k++) sample('response_time_p95_ms', 'h1', t, 100 + 10 * k);
for (let t = from - 4 * HOUR; t < from; t += 20 * MIN) sample('response_time_p95_ms', 'h1', t, 80);
// disk: hourly means 50, 52, 54, 56 (two samples an hour, ±0.5)
for (let i = 0; i < 4; i++) {
  sample('disk_percent', 'h1', from + i * HOUR + 10 * MIN, 50 + 2 * i - 0.5);
  sample('disk_percent', 'h1', from + i * HOUR + 40 * MIN, 50 + 2 * i + 0.5);
}

beforeAll(async () => {
  server = await startTestServer();
  await sql(`insert into metrics (name, service, instance, time, value) select n, 'api', i, to_timestamp(t / 1000.0), v from unnest(?::text[], ?::text[], ?::float8[], ?::float8[]) as s (n, i, t, v)`,
    [`{${samples.map((s) => s[0]).join(',')}}`, `{${samples.map((s) => s[1]).join(',')}}`, `{${samples.map((s) => s[2]).join(',')}}`, `{${samples.map((s) => s[3]).join(',')}}`]);
  // Rolled up from scratch, so the seeded past is in the rollups too.
  await sql('delete from metric_rollups_minute; delete from metric_rollups_hour; delete from metric_rollups_day; delete from metric_rollup_state');
  for (let i = 0; i < 5 && (await rollUp(em())) > 0; i++);
  await sql(`insert into alert_rules (name, metric, comparator, threshold, for_seconds, severity) values ('Disk above 90 %', 'disk_percent', '>', 90, 60, 'HIGH')`);

  const [{ id: rule }] = await sql(`select id from alert_rules where metric = 'cpu_percent'`);
  const at = (ms: number | null) => (ms === null ? null : new Date(ms));
  // [fired, acknowledged after, resolved after] in ms; the last two are outside the figures
  const alerts: Array<[number | null, number | null, number]> = [
    [from + 10 * MIN, 5 * MIN, 20 * MIN],
    [from + HOUR, 15 * MIN, HOUR],
    [from + 2 * HOUR, null, 30 * MIN],
    [from - HOUR, MIN, 2 * MIN],
    [null, null, MIN],
  ];
  for (const [fired, ack, resolve] of alerts) {
    const start = fired ?? from + 3 * HOUR;
    await sql(`insert into alerts (rule_id, service, status, severity, value, started_at, fired_at, acknowledged_at, resolved_at) values (?, 'seeded', 'RESOLVED', 'HIGH', 99, ?, ?, ?, ?)`,
      [rule, at(start), at(fired), at(ack === null ? null : start + ack), at(start + resolve)]);
  }
  const [{ id: owner }] = await sql('select id from users limit 1');
  const workflows: Array<[string, number]> = [
    ['SUCCEEDED', from], ['SUCCEEDED', from + HOUR], ['SUCCEEDED', to - 1], ['FAILED', from + 30 * MIN], ['FAILED', from + 3 * HOUR],
    ['SUCCEEDED', from - 1], ['FAILED', to], ['CANCELLED', from + HOUR],
  ];
  for (const [status, finished] of workflows) {
    await sql(`insert into workflows (owner_id, name, status, started_at, finished_at) values (?, 'seeded', ?, ?, ?)`, [owner, status, new Date(finished - MIN), new Date(finished)]);
  }
});
afterAll(() => server?.stop());

describe('operationsReport', () => {
  const byHand = {
    // 16 samples of h1 (4 × (0.5 + 0.75 + 1 + 1.25) = 14) and 8 of h2 (16), the edge samples left out
    errorRatePercent: (14 + 16) / 24,
    // mean of 100 … 210 against 80 before
    p95Ms: 155,
    p95TrendPercent: ((155 - 80) / 80) * 100,
    alertsOpened: 3,
    meanTimeToAcknowledgeSeconds: (300 + 900) / 2,
    meanTimeToResolveSeconds: (1200 + 3600 + 1800) / 3,
    diskPercent: 56,
    workflowsSucceeded: 3,
    workflowsFailed: 2,
  };
  // Least squares through the hourly means at x = −3.5, −2.5, −1.5, −0.5 h from `to`:
  // disk 50…56 is y = 57 + 48·x (x in days), reaching 90 in (90 − 57) / 48 days; p95 hourly means
  // 110, 140, 170, 200 are y = 215 + 720·x, reaching 1,000 in (1000 − 215) / 720 days; the error
  // rate's newest hour (h1's 0.5 … 1.25 and h2's 2, 2: 7.5 / 6 = 1.25) already breaks 1 %.
  const forecasts = [
    { metric: 'disk_percent', service: 'api', rule: 'Disk above 90 %', threshold: 90, current: 56, days: (90 - 57) / 48 },
    { metric: 'response_time_p95_ms', service: 'api', rule: 'p95 response time above 1000 ms', threshold: 1000, current: 200, days: (1000 - 215) / 720 },
    { metric: 'error_rate_percent', service: 'api', rule: 'Error rate above 1 %', threshold: 1, current: (0.5 + 0.75 + 1 + 1.25 + 2 + 2) / 6, days: 0 },
  ];

  function expectByHand(got: any) {
    expect(got.from).toBe(new Date(from).toISOString());
    expect(got.to).toBe(new Date(to).toISOString());
    for (const [field, value] of Object.entries(byHand)) expect(got[field], field).toBeCloseTo(value, 9);
    expect(got.capacity).toHaveLength(forecasts.length);
    for (const wanted of forecasts) {
      const forecast = got.capacity.find((c: any) => c.metric === wanted.metric);
      expect(forecast, wanted.metric).toMatchObject({ service: wanted.service, rule: wanted.rule, threshold: wanted.threshold });
      expect(forecast.current, wanted.metric).toBeCloseTo(wanted.current, 9);
      expect(forecast.daysUntilThreshold, wanted.metric).toBeCloseTo(wanted.days, 9);
    }
    expect(got.slowQueries.length).toBeLessThanOrEqual(5);
  }

  it('should match the figures worked out by hand', async () => {
    expectByHand(await report());
  });

  it('should give the same figures from the rollups once the raw samples are gone', async () => {
    await sql(`delete from metrics where service = 'api' and time < ?`, [new Date(to + HOUR)]);
    expectByHand(await report());
  });

  it('should forecast nothing for a metric heading away from its threshold', async () => {
    await sql(`update metric_rollups_hour set sum = sum * -1, min = min * -1, max = max * -1 where name = 'disk_percent'`);
    const { capacity } = await report();
    expect(capacity.find((c: any) => c.metric === 'disk_percent')).toMatchObject({ current: -56, daysUntilThreshold: null });
  });

  it('should be for admins only, over a valid range', async () => {
    const member = await server.newUser('MEMBER');
    const vars = { f: new Date(from).toISOString(), t: new Date(to).toISOString() };
    expect((await server.gql(REPORT, vars, member.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await server.gql(REPORT, vars)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const backwards = await server.gql(REPORT, { f: vars.t, t: vars.f }, server.adminToken);
    expect(backwards.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    const tooLong = await server.gql(REPORT, { f: new Date(to - 401 * 24 * HOUR).toISOString(), t: vars.t }, server.adminToken);
    expect(tooLong.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
  });
});
