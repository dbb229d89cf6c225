/**
 * `npm run bench:rollups`: `metricSeries` over long ranges, answered from the rollups, through
 * the real server over HTTP. Data (in its own database, `wf_bench_rollups`, recreated): one
 * metric for 50 series (services), a year of 1-hour rollups (and the 1-day rollups merged from
 * them), 35 days of 1-minute rollups and one day of raw samples every 10 s, with the watermarks a
 * caught-up roller leaves.
 *
 * Each case runs BENCH_REQUESTS (20) requests one after the other, after 3 warm-up requests;
 * BENCH_ROUNDS (3) rounds alternate the order of the cases. Prints the median and the slowest
 * latency of each case per round, and CPU per request of the server process and its PostgreSQL
 * backends (parallel query workers are short-lived processes and not counted) (BENCH_KEEP=1 keeps the database, BENCH_REUSE=1 measures it
 * again without seeding), the points and bytes per answer, and the raw ÷ minute ratio
 * of one day at one-minute-ish buckets (raw samples at 90 s against minute rollups at 120 s).
 */
import pg from 'pg';
import { backendCpuStopwatch, cpuMs, fixed, machine, median } from './measure.js';
import { startRealServer, type Target } from './processes.js';
import { databaseOnServer, dropDatabase, recreateDatabase } from './seed.js';

const env = process.env;
const requests = Number(env.BENCH_REQUESTS ?? 20);
const rounds = Number(env.BENCH_ROUNDS ?? 3);
const SERIES = 50;
const NAME = 'bench_metric';
const DAY = 86_400_000;

const databaseUrl = env.BENCH_ROLLUP_DATABASE_URL ?? databaseOnServer('wf_bench_rollups');

const QUERY = `query ($n: String!, $f: DateTime!, $b: Int, $a: MetricAggregate) {
  metricSeries(name: $n, from: $f, bucketSeconds: $b, aggregate: $a) { service instance time value } }`;

interface Case { label: string; days: number; bucketSeconds: number | null; aggregate?: string }
const CASES: Case[] = [
  { label: '1 year, default buckets (1 day), AVG', days: 365, bucketSeconds: null },
  { label: '1 year, 9-hour buckets (hour rollups), AVG', days: 365, bucketSeconds: 9 * 3600 },
  { label: '1 year, 1-day buckets, MAX', days: 365, bucketSeconds: 86_400 },
  { label: '30 days, 1-hour buckets, P95', days: 30, bucketSeconds: 3600, aggregate: 'P95' },
  { label: '30 days, default buckets (1 h), AVG', days: 30, bucketSeconds: null },
  { label: '7 days, default buckets (11 min), AVG', days: 7, bucketSeconds: null },
  { label: '1 day, 120 s buckets (minute rollups)', days: 1, bucketSeconds: 120 },
  { label: '1 day, 90 s buckets (raw samples)', days: 1, bucketSeconds: 90 },
];

async function seed(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const started = performance.now();
    const series = `generate_series(1, ${SERIES}) s`;
    // values: a daily wave per series plus noise; the rollup columns stay consistent (min ≤ p95 ≤ max)
    const rollup = (table: string, step: string, since: string) => client.query(
      `insert into ${table} (name, service, instance, bucket, samples, sum, min, max, p95)
       select $1, 'svc-' || lpad(s::text, 2, '0'), 'i1', b, 6, 6 * v, v - 5, v + 5, v + 4
         from ${series}, generate_series(date_trunc('hour', now()) - interval '${since}', date_trunc('${step}', now()) - interval '3 ${step}s', interval '1 ${step}') b,
              lateral (select 50 + 30 * sin(extract(epoch from b) / 13751 + s) + random() * 5 as v) x`,
      [NAME]);
    await rollup('metric_rollups_hour', 'hour', '365 days');
    await rollup('metric_rollups_minute', 'minute', '35 days');
    await client.query(
      `insert into metrics (name, service, instance, time, value)
       select $1, 'svc-' || lpad(s::text, 2, '0'), 'i1', t, 50 + 30 * sin(extract(epoch from t) / 13751 + s) + random() * 10
         from ${series}, generate_series(now() - interval '1 day', now(), interval '10 seconds') t`,
      [NAME]);
    await client.query(
      `insert into metric_rollup_state (tier, rolled_until) values
         ('hour', date_trunc('hour', now()) - interval '2 hours'), ('minute', date_trunc('minute', now()) - interval '2 minutes'),
         ('day', date_trunc('day', date_trunc('hour', now()) - interval '2 hours', 'UTC'))
       on conflict (tier) do update set rolled_until = excluded.rolled_until`);
    // the days the roller merges from those hours (metrics/rollups.ts)
    await client.query(
      `insert into metric_rollups_day (name, service, instance, bucket, samples, sum, min, max, p95)
       select name, service, instance, date_bin(interval '1 day', bucket, timestamptz 'epoch'), sum(samples), sum(sum), min(min), max(max), null
         from metric_rollups_hour where bucket < (select rolled_until from metric_rollup_state where tier = 'day') group by 1, 2, 3, 4`);
    await client.query('analyze metrics; analyze metric_rollups_minute; analyze metric_rollups_hour; analyze metric_rollups_day');
    const counts = await client.query(`select (select count(*) from metric_rollups_day) as days, (select count(*) from metric_rollups_hour) as hours,
                                              (select count(*) from metric_rollups_minute) as minutes, (select count(*) from metrics where name = $1) as raw`, [NAME]);
    const { days, hours, minutes, raw } = counts.rows[0];
    console.log(`seeded ${Number(days).toLocaleString('en')} day rollups, ${Number(hours).toLocaleString('en')} hour rollups, ${Number(minutes).toLocaleString('en')} minute rollups, ${Number(raw).toLocaleString('en')} raw samples in ${fixed((performance.now() - started) / 1000)} s\n`);
  } finally {
    await client.end();
  }
}

async function ask(target: Target, c: Case): Promise<{ ms: number; points: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: target.headers,
    body: JSON.stringify({ query: QUERY, variables: { n: NAME, f: new Date(Date.now() - c.days * DAY).toISOString(), b: c.bucketSeconds, a: c.aggregate ?? 'AVG' } }),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  const body = JSON.parse(text) as { data?: { metricSeries: unknown[] }; errors?: unknown };
  if (!body.data) throw new Error(`${c.label}: ${JSON.stringify(body.errors)}`);
  return { ms, points: body.data.metricSeries.length, bytes: text.length };
}

// BENCH_KEEP=1 keeps the database afterwards; BENCH_REUSE=1 measures a kept one again (no seeding).
const reuse = Boolean(env.BENCH_REUSE);
if (!reuse) await recreateDatabase(databaseUrl);
// The server applies the migrations; its own sampler and roller stay out of the way.
const server = await startRealServer({ databaseUrl, env: { SAMPLE_INTERVAL_SECONDS: '3600', ALERT_EVAL_INTERVAL_SECONDS: '3600' } });
try {
  if (!reuse) await seed();
  console.log(`### Metric rollups — ${new Date().toISOString()}\n\n${machine()}; ${SERIES} series, ${requests} sequential requests per case and round\n`);
  console.log('| round | case | points | KB | median ms | max ms | Node CPU ms/req | PostgreSQL CPU ms/req |\n| --- | --- | --- | --- | --- | --- | --- | --- |');
  const medians = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...CASES].reverse() : CASES;
    for (const c of order) {
      for (let i = 0; i < 3; i++) await ask(server, c);
      const times: number[] = [];
      let last = { points: 0, bytes: 0 };
      const nodeBefore = cpuMs(server.pid);
      const backendCpu = await backendCpuStopwatch(server);
      for (let i = 0; i < requests; i++) {
        const answer = await ask(server, c);
        times.push(answer.ms);
        last = answer;
      }
      medians.set(c.label, [...(medians.get(c.label) ?? []), median(times)]);
      const nodeCpu = (cpuMs(server.pid) - nodeBefore) / requests;
      const databaseCpu = (await backendCpu()) / requests;
      console.log(`| ${round + 1} | ${c.label} | ${last.points.toLocaleString('en')} | ${fixed(last.bytes / 1024)} | ${fixed(median(times))} | ${fixed(Math.max(...times))} | ${fixed(nodeCpu)} | ${fixed(databaseCpu)} |`);
    }
  }
  const perRound = (label: string) => medians.get(label)!;
  const ratios = perRound(CASES[CASES.length - 1].label).map((raw, i) => raw / perRound(CASES[CASES.length - 2].label)[i]);
  console.log(`\nraw ÷ minute rollups, one day (per round): ${ratios.map((r) => `${fixed(r, 1)}×`).join(', ')}; load average now ${machine().split('load average ')[1]}`);
} finally {
  await server.stop();
  if (!env.BENCH_KEEP) await dropDatabase(databaseUrl);
}
