/**
 * `npm run bench:ingest`: metric ingestion throughput. Samples per second through
 * `recordMetrics` (batches of 1,000, over real HTTP, as an integration pushes them) against
 * the limit: a plain multi-row `INSERT` of the same rows with `pg`, into the same table, in
 * the same run, alternating which goes first each round. Prints Markdown for RESULTS.md.
 *
 * Settings: BENCH_BATCHES (200 batches of 1,000 per run), BENCH_CONCURRENCY (4 batches in
 * flight), BENCH_ROUNDS (3), BENCH_DATABASE_URL (default: DATABASE_URL's server, database
 * `wf_bench_ingest`, made afresh and dropped at the end), BENCH_CPU_PROF (a folder: the server
 * writes a --cpu-prof profile there).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import pg from 'pg';
import { fixed, machine, median } from './measure.js';
import { startRealServer } from './processes.js';
import { dropDatabase, recreateDatabase } from './seed.js';

const env = process.env;
const BATCH = 1_000;
const batches = Number(env.BENCH_BATCHES ?? 200);
const concurrency = Number(env.BENCH_CONCURRENCY ?? 4);
const rounds = Number(env.BENCH_ROUNDS ?? 3);

function databaseUrl(): string {
  if (env.BENCH_DATABASE_URL) return env.BENCH_DATABASE_URL;
  const url = new URL(env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = '/wf_bench_ingest';
  return url.toString();
}

interface Row {
  name: string;
  service: string;
  instance: string;
  time: string;
  value: number;
}

/** `count` batches of realistic samples: 20 metric names, 10 services, 5 hosts, spread over the last hour. */
function makeBatches(count: number, round: number): Row[][] {
  const now = Date.now();
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => ({
      name: `bench_metric_${i % 20}`,
      service: `service-${(b + i) % 10}`,
      instance: `host-${i % 5}`,
      time: new Date(now - 3_600_000 + ((round * count + b) * BATCH + i) % 3_600_000).toISOString(),
      value: Math.round(Math.random() * 100_000) / 100,
    })),
  );
}

/** Runs `send` over the batches with `concurrency` in flight; returns samples per second. */
async function throughput<T>(items: T[], send: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await send(items[next++]);
  }));
  return (items.length * BATCH) / ((performance.now() - started) / 1000);
}

/** CPU time (user + system, ms) the server process has used so far, from /proc. */
function serverCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const RECORD = 'mutation Push($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }';

const url = databaseUrl();
await recreateDatabase(url);
const server = await startRealServer({
  databaseUrl: url,
  env: { SAMPLE_INTERVAL_SECONDS: '3600', ALERT_EVAL_INTERVAL_SECONDS: '3600' },
  nodeArgs: env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [],
});
const pool = new pg.Pool({ connectionString: url, max: concurrency });
const placeholders = Array.from({ length: BATCH }, (_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5})`).join(', ');
const plainInsert = `insert into metrics (name, service, instance, time, value) values ${placeholders}`;

// A plain keep-alive HTTP client: the integration's own overhead is not what is measured.
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
function post(body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/graphql`, { method: 'POST', agent, headers: { ...server.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const viaApi = (bodies: string[]) => throughput(bodies, async (body) => {
  const result = JSON.parse(await post(body)) as { data?: { recordMetrics: number }; errors?: unknown };
  if (result.data?.recordMetrics !== BATCH) throw new Error(`recordMetrics failed: ${JSON.stringify(result.errors)}`);
});
const viaPg = (params: unknown[][]) => throughput(params, async (values) => {
  await pool.query(plainInsert, values);
});

try {
  // Warm both paths up (JIT, connections, plan cache).
  const warm = makeBatches(20, 99);
  await viaApi(warm.map((s) => JSON.stringify({ query: RECORD, operationName: 'Push', variables: { s } })));
  await viaPg(warm.map((rows) => rows.flatMap((r) => [r.name, r.service, r.instance, r.time, r.value])));

  console.log(`\n### Metric ingestion — ${new Date().toISOString()}\n\n${machine()}; ${batches} batches of ${BATCH} per run, ${concurrency} in flight, ${rounds} rounds, order alternating\n`);
  console.log('| round | recordMetrics samples/s | plain INSERT samples/s | ratio | server CPU ms per batch |\n| --- | --- | --- | --- | --- |');
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const data = makeBatches(batches, round);
    // Request bodies and parameters are built before timing: only sending and storing is measured.
    const bodies = data.map((s) => JSON.stringify({ query: RECORD, operationName: 'Push', variables: { s } }));
    const params = data.map((rows) => rows.flatMap((r) => [r.name, r.service, r.instance, r.time, r.value]));
    let api = 0;
    let plain = 0;
    let cpu = 0;
    const measureApi = async () => {
      const before = serverCpuMs(server.pid);
      api = await viaApi(bodies);
      cpu = (serverCpuMs(server.pid) - before) / batches;
    };
    if (round % 2) {
      plain = await viaPg(params);
      await measureApi();
    } else {
      await measureApi();
      plain = await viaPg(params);
    }
    ratios.push(api / plain);
    console.log(`| ${round + 1} | ${fixed(api, 0)} | ${fixed(plain, 0)} | ${fixed(api / plain, 2)} | ${fixed(cpu, 1)} |`);
  }
  console.log(`\nMedian ratio recordMetrics / plain INSERT: **${fixed(median(ratios), 2)}** (target ≥ 0.50)`);
} finally {
  agent.destroy();
  await pool.end();
  await server.stop();
  await dropDatabase(url);
}
