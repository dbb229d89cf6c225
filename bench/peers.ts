/**
 * `npm run bench:peers`: the dashboard query against the real server, the raw limits and the
 * best peer, in the same run. Each round measures every target once, the order rotating from
 * round to round so drifting machine load hits all of them; ratios are taken within a round,
 * and the summary gives their medians. Before measuring, every target's answer must be the same
 * bytes (Apollo's trailing newline aside).
 *
 * The limit of a round is the faster of the two raw limits (JSON built by PostgreSQL, or rows
 * from `pg` with JSON built in Node). Its CPU columns show whether the limit process itself was
 * the bottleneck (a Node process near 100 % of a core is; PostgreSQL shares the other).
 *
 * Settings: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), BENCH_ROUNDS (3),
 * BENCH_CONNECTIONS ("10,50"), BENCH_TARGETS (default "server,limit-node,limit-postgres,mercurius";
 * also "server-workers": the real server with WORKERS=2, on REDIS_URL or the local Redis),
 * BENCH_SERVER_ENV (extra env for the real server, "A=1,B=2"),
 * BENCH_CPU_PROF (a folder: the real server writes a --cpu-prof profile there),
 * BENCH_BASELINE (another checkout, e.g. /work/main: its server is the extra target "baseline",
 * for an A/B of a change in the same run; it must have run `npm ci`).
 */
import { DASHBOARD_BODY } from './dashboard-query.js';
import { fixed, machine, measure, median, type Figures } from './measure.js';
import { startLimitServer, startMercuriusServer, startRealServer, type Target } from './processes.js';
import { benchDatabaseUrl, ensureSeeded } from './seed.js';

const env = process.env;
const seconds = Number(env.BENCH_SECONDS ?? 10);
const warmup = Number(env.BENCH_WARMUP_SECONDS ?? 3);
const rounds = Number(env.BENCH_ROUNDS ?? 3);
const connectionSteps = (env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
const wanted = (env.BENCH_TARGETS ?? 'server,limit-node,limit-postgres,mercurius').split(',');
if (env.BENCH_BASELINE && !wanted.includes('baseline')) wanted.push('baseline');
const serverEnv = Object.fromEntries((env.BENCH_SERVER_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const load = { path: '/graphql', method: 'POST' as const, body: DASHBOARD_BODY };

const starters: Record<string, (databaseUrl: string) => Promise<Target>> = {
  server: (databaseUrl) =>
    startRealServer({ databaseUrl, env: serverEnv, nodeArgs: env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [] }),
  'server-workers': (databaseUrl) =>
    startRealServer({
      databaseUrl,
      name: 'server-workers',
      env: { ...serverEnv, WORKERS: '2', REDIS_URL: env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `wf-bench-${process.pid}:` },
    }),
  'server-jit': (databaseUrl) => startRealServer({ databaseUrl, name: 'server-jit', env: { ...serverEnv, QUERY_PLANS: '0' } }),
  baseline: (databaseUrl) => startRealServer({ databaseUrl, env: serverEnv, root: env.BENCH_BASELINE, name: 'baseline' }),
  'limit-node': (databaseUrl) => startLimitServer({ databaseUrl }, 'node'),
  'limit-postgres': (databaseUrl) => startLimitServer({ databaseUrl }, 'postgres'),
  mercurius: (databaseUrl) => startMercuriusServer({ databaseUrl }),
};
for (const name of wanted) if (!starters[name]) throw new Error(`unknown target ${name} (known: ${Object.keys(starters).join(', ')})`);

async function answer(target: Target): Promise<string> {
  const response = await fetch(`${target.url}${load.path}`, { method: 'POST', headers: target.headers, body: load.body });
  if (!response.ok) throw new Error(`${target.name}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
  return (await response.text()).replace(/\n$/, '');
}

/** Share of one core the process and its PostgreSQL backends were busy during the run. */
const busy = (f: Figures) => `${fixed((f.nodeCpuMs * f.requests) / (f.seconds * 10), 0)} % + ${fixed((f.databaseCpuMs * f.requests) / (f.seconds * 10), 0)} %`;

const row = (f: Figures, ratios: string) =>
  `| ${f.target} | ${f.connections} | ${fixed(f.requestsPerSecond)} | ${fixed(f.p50)} | ${fixed(f.p95)} | ${fixed(f.p99)} | ${fixed(f.p99 / f.p95, 2)} | ${fixed(f.nodeCpuMs)} + ${fixed(f.databaseCpuMs)} | ${busy(f)} | ${fixed(100 * f.errorRate, 2)} % | ${ratios} |`;

const databaseUrl = benchDatabaseUrl();
await ensureSeeded(databaseUrl);
const targets: Target[] = [];
try {
  for (const name of wanted) targets.push(await starters[name](databaseUrl));
  const answers = await Promise.all(targets.map(answer));
  for (const [i, text] of answers.entries()) {
    if (text !== answers[0]) {
      const at = [...text].findIndex((c, j) => c !== answers[0][j]);
      throw new Error(`${targets[i].name} answers other bytes than ${targets[0].name} (from byte ${at}):\n${answers[0].slice(at - 80, at + 120)}\n${text.slice(at - 80, at + 120)}`);
    }
  }

  console.log(`\n### Dashboard query vs raw limits and peers — ${new Date().toISOString()}\n`);
  console.log(`${machine()}; ${seconds} s per run, ${rounds} rounds, order rotating; every answer ${Buffer.byteLength(answers[0])} bytes, checked equal\n`);
  console.log(
    '| target | connections | req/s | p50 ms | p95 ms | p99 ms | p99/p95 | CPU ms/req (node + PostgreSQL) | busy (node + PostgreSQL, % of a core) | errors | ratios this round |\n' +
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const summary: string[] = [];
  for (const connections of connectionSteps) {
    for (const target of targets) await measure(target, load, connections, warmup);
    const perRound: Array<Record<string, Figures>> = [];
    for (let round = 0; round < rounds; round++) {
      const order = targets.map((_, i) => targets[(i + round) % targets.length]);
      const figures: Record<string, Figures> = {};
      for (const target of order) figures[target.name] = await measure(target, load, connections, seconds);
      perRound.push(figures);
      const limit = Math.max(figures['limit-node']?.requestsPerSecond ?? 0, figures['limit-postgres']?.requestsPerSecond ?? 0);
      for (const target of targets) {
        const f = figures[target.name];
        const ratios = [
          limit ? `× limit ${fixed(f.requestsPerSecond / limit, 2)}` : '',
          figures.baseline && target.name !== 'baseline' ? `× baseline ${fixed(f.requestsPerSecond / figures.baseline.requestsPerSecond, 2)}` : '',
          figures.mercurius && target.name !== 'mercurius' ? `× mercurius ${fixed(f.requestsPerSecond / figures.mercurius.requestsPerSecond, 2)}` : '',
        ].filter(Boolean).join(', ');
        console.log(row(f, ratios));
      }
    }
    const limitOf = (r: Record<string, Figures>) => Math.max(r['limit-node']?.requestsPerSecond ?? 0, r['limit-postgres']?.requestsPerSecond ?? 0);
    for (const target of targets) {
      const mine = perRound.map((r) => r[target.name]);
      const toLimit = perRound.map((r) => r[target.name].requestsPerSecond / limitOf(r));
      const toPeer = perRound.map((r) => (r.mercurius ? r[target.name].requestsPerSecond / r.mercurius.requestsPerSecond : NaN));
      const m = (key: 'requestsPerSecond' | 'p95' | 'p99') => median(mine.map((f) => f[key]));
      const list = (values: number[]) => `**${fixed(median(values), 2)}** (${values.map((v) => fixed(v, 2)).join(', ')})`;
      summary.push(
        `| ${target.name} | ${connections} | ${fixed(m('requestsPerSecond'))} | ${limitOf(perRound[0]) ? list(toLimit) : ''} | ${perRound[0].mercurius ? list(toPeer) : ''} ` +
          `| ${fixed(m('p95'))} / ${fixed(m('p99'))} | ${fixed(m('p99') / m('p95'), 2)} | ${fixed(median(mine.map((f) => f.nodeCpuMs)))} + ${fixed(median(mine.map((f) => f.databaseCpuMs)))} |`,
      );
    }
  }
  console.log(
    '\nMedians over rounds (ratios: median of the per-round ratios; the limit of a round is the faster raw limit):\n\n' +
      '| target | connections | req/s | × limit (per round) | × mercurius (per round) | p95 / p99 ms | p99/p95 | CPU ms/req (node + PostgreSQL) |\n| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  console.log(summary.join('\n'));
  console.log(`\nload average at the end: ${machine()}`);
} finally {
  await Promise.all(targets.map((t) => t.stop()));
}
