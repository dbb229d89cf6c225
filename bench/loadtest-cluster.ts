/**
 * `npm run loadtest:cluster`: the operations guide's gradual load — 10, 25, 50, 100, 200
 * connections — through nginx (the repository's deploy/nginx.conf, as the nginx tests run it)
 * in front of one, two and three replicas of the real server on one database and one Redis.
 * Per step: requests/s, p50/p95 and errors, and the scaling factor against one replica in
 * the same run. Every replica, nginx, PostgreSQL and the load generator share this machine's
 * cores, so the factor says what this machine allows, not what more machines would.
 *
 * Settings: LOADTEST_SECONDS per step (10), LOADTEST_STEPS ("10,25,50,100,200"),
 * LOADTEST_REPLICAS ("1,2,3"), REDIS_URL (redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { startNginx, type Nginx } from '../server/test/support/nginx.js';
import { DASHBOARD_BODY } from './dashboard-query.js';
import { fixed, machine, measure, type Figures, type Load } from './measure.js';
import { startRealServer, type Target } from './processes.js';
import { benchDatabaseUrl, ensureSeeded } from './seed.js';

const seconds = Number(process.env.LOADTEST_SECONDS ?? 10);
const steps = (process.env.LOADTEST_STEPS ?? '10,25,50,100,200').split(',').map(Number);
const replicaCounts = (process.env.LOADTEST_REPLICAS ?? '1,2,3').split(',').map(Number);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const loads: Array<[string, Load]> = [
  ['GET /api/health', { path: '/api/health' }],
  ['dashboard query', { path: '/graphql', method: 'POST', body: DASHBOARD_BODY }],
];

const databaseUrl = benchDatabaseUrl();
await ensureSeeded(databaseUrl);
const env = { REDIS_URL: redisUrl, REDIS_PREFIX: `wf-loadtest-${randomBytes(4).toString('hex')}:` };
const replicas: Target[] = [];
try {
  for (let i = 1; i <= Math.max(...replicaCounts); i++) replicas.push(await startRealServer({ databaseUrl, env, name: `replica-${i}` }));
  console.log(`\n### Cluster load test through nginx — ${new Date().toISOString()}\n\n${machine()}; ${seconds} s per step\n`);
  console.log('| endpoint | connections | replicas | req/s | × 1 replica | p50 ms | p95 ms | errors |\n| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, load] of loads) {
    for (const connections of steps) {
      let single: Figures | null = null;
      for (const count of replicaCounts) {
        const nginx = await startNginx(replicas.slice(0, count).map((r) => new URL(r.url).host));
        try {
          // Through nginx, with the first replica's token (every replica accepts it); CPU is
          // not accounted per request here, so no process or backends are named.
          const target: Target = { ...replicas[0], name: `${count} replica(s)`, url: nginx.url, backendPids: async () => [] };
          await measure(target, load, Math.min(connections, 10), 2);
          const f = await measure(target, load, connections, seconds);
          if (count === 1) single = f;
          const factor = single ? fixed(f.requestsPerSecond / single.requestsPerSecond, 2) : '–';
          console.log(`| ${name} | ${connections} | ${count} | ${fixed(f.requestsPerSecond)} | ${factor} | ${fixed(f.p50)} | ${fixed(f.p95)} | ${fixed(f.errorRate * 100, 2)} % |`);
          if (f.errorRate > 0) console.error(failureSummary(nginx));
        } finally {
          await nginx.stop();
        }
      }
    }
  }
} finally {
  await Promise.all(replicas.map((r) => r.stop()));
}

/** What the failed requests of a step were: nginx's statuses with what each replica answered, and its error log. */
function failureSummary(nginx: Nginx): string {
  const failed = new Map<string, number>();
  for (const r of nginx.requests()) {
    if (r.status >= 200 && r.status < 300) continue;
    const key = `${r.status} (replicas answered ${r.upstreamStatuses.join(', ')})`;
    failed.set(key, (failed.get(key) ?? 0) + 1);
  }
  const statuses = [...failed].map(([key, n]) => `${n} × ${key}`).join('; ') || 'none logged by nginx (the client side failed)';
  return `  failed requests: ${statuses}\n  nginx error log: ${nginx.errors().trim().split('\n').slice(0, 5).join(' | ') || '(empty)'}`;
}
