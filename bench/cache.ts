/**
 * `npm run bench:cache`: the dashboard query with the response cache on (in-process, or Redis
 * with BENCH_REDIS_URL), hits against misses, in the same run and alternating:
 * - hit: the same query every time (after the first, every answer comes from the cache);
 * - miss: every request differs only in `search`, whitespace that the server trims away, so
 *   each does the full work of the list under a new cache key (and stores its answer).
 * Prints requests/s and p50/p95/p99 of each, for RESULTS.md.
 *
 * Settings: BENCH_SECONDS (10), BENCH_ROUNDS (2), BENCH_CONNECTIONS ("10,50"), BENCH_REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { DASHBOARD_QUERY } from './dashboard-query.js';
import { fixed, machine, measure, median, type Figures, type Load } from './measure.js';
import { startRealServer } from './processes.js';
import { benchDatabaseUrl, ensureSeeded } from './seed.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 10);
const rounds = Number(env.BENCH_ROUNDS ?? 2);
const connectionSteps = (env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
const redis: Record<string, string> = env.BENCH_REDIS_URL ? { REDIS_URL: env.BENCH_REDIS_URL, REDIS_PREFIX: `wf-bench-${randomBytes(4).toString('hex')}:` } : {};

const QUERY = DASHBOARD_QUERY.replace('query Dashboard {', 'query Dashboard($search: String) {').replace('workflows(first: 50)', 'workflows(first: 50, search: $search)');
const WHITESPACE = [' ', '\t', '\n'];
/** Whitespace only (trimmed to nothing by the server), different on every call. */
const blank = () => Array.from(randomBytes(24), (b) => WHITESPACE[b % 3]).join('');

const hit: Load = { path: '/graphql', method: 'POST', body: JSON.stringify({ query: QUERY, variables: { search: '' } }) };
const miss: Load = { path: '/graphql', method: 'POST', body: () => JSON.stringify({ query: QUERY, variables: { search: blank() } }) };

const databaseUrl = benchDatabaseUrl();
await ensureSeeded(databaseUrl);
const server = await startRealServer({ databaseUrl, env: { CACHE_TTL_SECONDS: '30', ...redis } });
try {
  console.log(`\n### Response cache — ${new Date().toISOString()}\n\n${machine()}; store: ${redis.REDIS_URL ? 'Redis' : 'in-process'}; ${seconds} s per run, ${rounds} rounds\n`);
  console.log('| connections | kind | req/s | p50 ms | p95 ms | p99 ms | errors |\n| --- | --- | --- | --- | --- | --- | --- |');
  const summary: string[] = [];
  for (const connections of connectionSteps) {
    await measure(server, hit, connections, 2);
    const results: Record<string, Figures[]> = { hit: [], miss: [] };
    for (let round = 0; round < rounds; round++) {
      for (const [kind, load] of (round % 2 ? [['miss', miss], ['hit', hit]] : [['hit', hit], ['miss', miss]]) as Array<[string, Load]>) {
        const f = await measure(server, load, connections, seconds);
        results[kind].push(f);
        console.log(`| ${connections} | ${kind} | ${fixed(f.requestsPerSecond)} | ${fixed(f.p50)} | ${fixed(f.p95)} | ${fixed(f.p99)} | ${fixed(f.errorRate * 100, 2)} % |`);
      }
    }
    const rps = (kind: string) => median(results[kind].map((f) => f.requestsPerSecond));
    summary.push(`| ${connections} | ${fixed(rps('hit'))} | ${fixed(rps('miss'))} | ${fixed(rps('hit') / rps('miss'), 1)}× |`);
  }
  console.log('\n| connections | hit req/s | miss req/s | hit/miss |\n| --- | --- | --- | --- |');
  console.log(summary.join('\n'));
} finally {
  await server.stop();
}
