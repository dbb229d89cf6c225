/**
 * `npm run bench:dashboard`: the dashboard query against the real server and the limit server,
 * in the same run, alternating which goes first each round so drifting machine load hits both.
 * Prints requests/s, p50/p95/p99 and the ratio to the limit, as Markdown for RESULTS.md.
 *
 * Settings: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), BENCH_ROUNDS (3),
 * BENCH_CONNECTIONS ("10,50"), BENCH_SERVER_ENV (extra env for the server, "A=1,B=2"),
 * BENCH_CPU_PROF (a folder: the server writes a --cpu-prof profile there).
 */
import { isDeepStrictEqual } from 'node:util';
import { DASHBOARD_BODY } from './dashboard-query.js';
import { fixed, machine, measure, median, type Figures } from './measure.js';
import { startLimitServer, startRealServer, type Target } from './processes.js';
import { benchDatabaseUrl, ensureSeeded } from './seed.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 10);
const warmup = Number(env.BENCH_WARMUP_SECONDS ?? 3);
const rounds = Number(env.BENCH_ROUNDS ?? 3);
const connectionSteps = (env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
const serverEnv = Object.fromEntries((env.BENCH_SERVER_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const load = { path: '/graphql', method: 'POST' as const, body: DASHBOARD_BODY };

async function answer(target: Target): Promise<unknown> {
  const response = await fetch(`${target.url}${load.path}`, { method: 'POST', headers: target.headers, body: load.body });
  return response.json();
}

const row = (f: Figures, ratio?: string) =>
  `| ${f.target} | ${f.connections} | ${fixed(f.requestsPerSecond)} | ${fixed(f.p50)} | ${fixed(f.p95)} | ${fixed(f.p99)} | ${fixed(f.p99 / f.p95, 2)} | ${fixed(f.nodeCpuMs)} + ${fixed(f.databaseCpuMs)} | ${ratio ?? ''} |`;

const databaseUrl = benchDatabaseUrl();
await ensureSeeded(databaseUrl);
const server = await startRealServer({ databaseUrl, env: serverEnv, nodeArgs: env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [] });
const limit = await startLimitServer({ databaseUrl });
try {
  // Both must do the same work: the same JSON, byte order of keys aside.
  const [mine, theirs] = await Promise.all([answer(server), answer(limit)]);
  if (!isDeepStrictEqual(mine, theirs)) throw new Error(`responses differ:\n${JSON.stringify(mine).slice(0, 500)}\n${JSON.stringify(theirs).slice(0, 500)}`);

  console.log(`\n### Dashboard query — ${new Date().toISOString()}\n\n${machine()}; ${seconds} s per run, ${rounds} rounds, order alternating\n`);
  console.log('| target | connections | req/s | p50 ms | p95 ms | p99 ms | p99/p95 | CPU ms/req (node + PostgreSQL) | ratio to limit |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const summary: string[] = [];
  for (const connections of connectionSteps) {
    for (const target of [server, limit]) await measure(target, load, connections, warmup);
    const ratios: number[] = [];
    const byTarget: Record<string, Figures[]> = { server: [], limit: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 ? [limit, server] : [server, limit];
      const figures: Record<string, Figures> = {};
      for (const target of order) figures[target.name] = await measure(target, load, connections, seconds);
      const ratio = figures.server.requestsPerSecond / figures.limit.requestsPerSecond;
      ratios.push(ratio);
      byTarget.server.push(figures.server);
      byTarget.limit.push(figures.limit);
      console.log(row(figures.server, fixed(ratio, 2)));
      console.log(row(figures.limit));
    }
    const pick = (list: Figures[], key: 'p95' | 'p99') => fixed(median(list.map((f) => f[key])));
    summary.push(
      `| ${connections} | ${fixed(median(byTarget.server.map((f) => f.requestsPerSecond)))} | ${fixed(median(byTarget.limit.map((f) => f.requestsPerSecond)))} ` +
        `| **${fixed(median(ratios), 2)}** (${ratios.map((r) => fixed(r, 2)).join(', ')}) | ${pick(byTarget.server, 'p95')} / ${pick(byTarget.server, 'p99')} ` +
        `| ${fixed(median(byTarget.server.map((f) => f.p99)) / median(byTarget.server.map((f) => f.p95)), 2)} | ${pick(byTarget.limit, 'p95')} / ${pick(byTarget.limit, 'p99')} |`,
    );
  }
  console.log('\nMedians over rounds:\n\n| connections | server req/s | limit req/s | ratio (per round) | server p95 / p99 ms | server p99/p95 | limit p95 / p99 ms |\n| --- | --- | --- | --- | --- | --- | --- |');
  console.log(summary.join('\n'));
} finally {
  await Promise.all([server.stop(), limit.stop()]);
}
