/**
 * `npm run loadtest`: the operations guide's gradual load — 10, 25, 50, 100, 200 connections —
 * against `/api/health` and the dashboard query on the real server, printing p95 and the error
 * rate at each step against the guide's targets (p95 < 500 ms, errors < 0.1 %).
 *
 * Settings: LOADTEST_SECONDS per step (10), LOADTEST_STEPS ("10,25,50,100,200"),
 * BENCH_SERVER_ENV (extra env for the server, "A=1,B=2"; e.g. CACHE_TTL_SECONDS=30).
 */
import { DASHBOARD_BODY } from './dashboard-query.js';
import { fixed, machine, measure, type Load } from './measure.js';
import { startRealServer } from './processes.js';
import { benchDatabaseUrl, ensureSeeded } from './seed.js';

const P95_TARGET_MS = 500;
const ERROR_TARGET = 0.001;
const seconds = Number(process.env.LOADTEST_SECONDS ?? 10);
const steps = (process.env.LOADTEST_STEPS ?? '10,25,50,100,200').split(',').map(Number);
const serverEnv = Object.fromEntries((process.env.BENCH_SERVER_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const loads: Array<[string, Load]> = [
  ['GET /api/health', { path: '/api/health' }],
  ['dashboard query', { path: '/graphql', method: 'POST', body: DASHBOARD_BODY }],
];

const databaseUrl = benchDatabaseUrl();
await ensureSeeded(databaseUrl);
const server = await startRealServer({ databaseUrl, env: serverEnv });
try {
  console.log(`\n### Load test — ${new Date().toISOString()}\n\n${machine()}; ${seconds} s per step; server env ${JSON.stringify(serverEnv)}\n`);
  console.log('| endpoint | connections | req/s | p95 ms | errors | p95 < 500 ms | errors < 0.1 % |\n| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, load] of loads) {
    await measure(server, load, 10, 2);
    for (const connections of steps) {
      const f = await measure(server, load, connections, seconds);
      const ok = (pass: boolean) => (pass ? 'yes' : '**no**');
      console.log(`| ${name} | ${connections} | ${fixed(f.requestsPerSecond)} | ${fixed(f.p95)} | ${fixed(f.errorRate * 100, 2)} % | ${ok(f.p95 < P95_TARGET_MS)} | ${ok(f.errorRate < ERROR_TARGET)} |`);
    }
  }
} finally {
  await server.stop();
}
