/**
 * Claim throughput (issue 14): WORKERS workers claiming and completing TASKS one-step tasks,
 *   - through the worker SDK (createWorker, concurrency 1 each) against the real server
 *     (compiled, as `npm start` runs it, rate limit off) on a fresh database;
 *   - the same with SDK_CONCURRENCY tasks held by each worker (default 16): its claims and
 *     completions go in batches (claimTasks, completeAndClaimTasks);
 *   - the same loops calling claimTask/completeTask over HTTP without the SDK (what the SDK adds);
 *   - the same number of loops issuing the bare SQL on a `pg` pool of that size — one
 *     `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` to claim, one UPDATE
 *     to complete — against a table shaped like `tasks` in the same database: the limit;
 *   - BullMQ workers (concurrency 1 each, a no-op processor) on the machine's Redis: the anchor.
 * Every task is READY (or waiting, for BullMQ) before the clock starts; the clock stops when the
 * last one is completed. Rounds are interleaved (the order rotates each run), RUNS runs, each
 * with its own ratios against the SQL limit.
 *
 *   npm run bench:claims        (TASKS=10000 WORKERS=4 RUNS=3 SDK_CONCURRENCY=16; REDIS_URL, DATABASE_URL)
 * SYSTEMS (which rounds, e.g. "api,sdk,sdkc"; default all five), BENCH_CPU_PROF (a folder: the real
 * server writes a --cpu-prof profile there).
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker as BullWorker } from 'bullmq';
import pg from 'pg';
import { createWorker } from '@workflow-factory/sdk';
import { fixed, machine } from './measure.js';
import { postGraphQL as gql, startRealServer, type Target } from './processes.js';
import { databaseOnServer, dropDatabase, recreateDatabase } from './seed.js';

const TASKS = Number(process.env.TASKS ?? 10_000);
const WORKERS = Number(process.env.WORKERS ?? 4);
const RUNS = Number(process.env.RUNS ?? 3);
const SDK_CONCURRENCY = Number(process.env.SDK_CONCURRENCY ?? 16);
/** tasks per workflow for the SDK rounds (independent tasks, one step each) */
const PER_WORKFLOW = 100;
const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

type System = 'sql' | 'api' | 'sdk' | 'sdkc' | 'bullmq';
const ORDER = (process.env.SYSTEMS?.split(',') ?? ['sql', 'api', 'sdk', 'sdkc', 'bullmq']) as System[];

/** Runs `count` jobs, `parallel` at a time. */
async function inParallel(count: number, parallel: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await job(next++);
  }));
}

/** TASKS READY tasks in a queue of their own, as started workflows of PER_WORKFLOW independent tasks. */
async function readyTasks(target: Target, queue: string): Promise<void> {
  const tasks = Array.from({ length: PER_WORKFLOW }, (_, i) => ({ name: `t${i}`, queue }));
  await inParallel(Math.ceil(TASKS / PER_WORKFLOW), 4, async (i) => {
    const { createWorkflow } = await gql(target, 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: `${queue}-${i}`, tasks } });
    await gql(target, 'mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: createWorkflow.id });
  });
}

/**
 * Tasks per second for the API without the SDK: WORKERS loops of claimTask, then
 * completeAndClaimTask (the completion and the next claim in one request, as the SDK does) over
 * HTTP, selecting only what a claim needs. The SDK's own cost is the gap between this and sdkRound.
 */
async function apiRound(target: Target, queue: string): Promise<number> {
  await readyTasks(target, queue);
  const started = performance.now();
  await Promise.all(Array.from({ length: WORKERS }, async (_, i) => {
    const claim = { q: [queue], w: `bench-${i}` };
    let { claimTask: task } = await gql(target, 'mutation ($q: [String!], $w: String) { claimTask(queues: $q, workerId: $w) { id attempts } }', claim);
    while (task) {
      const { completeAndClaimTask } = await gql(
        target,
        'mutation ($id: ID!, $a: Int!, $q: [String!], $w: String) { completeAndClaimTask(id: $id, attempt: $a, output: null, queues: $q, workerId: $w) { next { id attempts } } }',
        { id: task.id, a: task.attempts, ...claim },
      );
      task = completeAndClaimTask.next;
    }
  }));
  return TASKS / ((performance.now() - started) / 1000);
}

/** Tasks per second through the SDK: TASKS READY tasks, then the workers, each holding up to `concurrency`. */
async function sdkRound(target: Target, queue: string, concurrency: number): Promise<number> {
  await readyTasks(target, queue);
  const token = target.headers.authorization.replace(/^Bearer /, '');
  let completed = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const started = performance.now();
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    createWorker({
      url: `${target.url}/graphql`,
      token,
      queues: [queue],
      workerId: `bench-${i}`,
      concurrency,
      handleSignals: false,
      handler: () => null,
      on: { completed: () => ++completed === TASKS && finish(), error: (error) => console.error('sdk worker:', error) },
    }),
  );
  await Promise.all(workers.map((w) => w.start()));
  await done;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.stop({ graceMs: 0 })));
  return TASKS / seconds;
}

const SQL_SCHEMA = `
  create table if not exists bench_claim_tasks (
    id bigserial primary key, queue text not null, status text not null, priority int not null default 0,
    ready_at timestamptz not null default now(), attempts int not null default 0, worker_id text,
    started_at timestamptz, finished_at timestamptz, output jsonb);
  create index if not exists bench_claim_tasks_claim_idx on bench_claim_tasks (queue, priority desc, ready_at, id) where status = 'READY'`;
const SQL_CLAIM = `update bench_claim_tasks set status = 'RUNNING', attempts = attempts + 1, worker_id = $2, started_at = now()
  where id = (select id from bench_claim_tasks where status = 'READY' and queue = $1 order by priority desc, ready_at, id limit 1 for update skip locked)
  returning id`;
const SQL_COMPLETE = `update bench_claim_tasks set status = 'SUCCEEDED', finished_at = now(), output = 'null' where id = $1 and status = 'RUNNING'`;

/** Tasks per second for the bare SQL on a pool of WORKERS connections. */
async function sqlRound(databaseUrl: string, queue: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: WORKERS });
  try {
    await pool.query(SQL_SCHEMA);
    await pool.query(`insert into bench_claim_tasks (queue, status) select $1, 'READY' from generate_series(1, $2)`, [queue, TASKS]);
    await pool.query('analyze bench_claim_tasks');
    const started = performance.now();
    await Promise.all(Array.from({ length: WORKERS }, async (_, i) => {
      for (;;) {
        const { rows } = await pool.query(SQL_CLAIM, [queue, `bench-${i}`]);
        if (!rows.length) return;
        await pool.query(SQL_COMPLETE, [rows[0].id]);
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await pool.query(`select count(*)::int as n from bench_claim_tasks where queue = $1 and status = 'SUCCEEDED'`, [queue]);
    if (rows[0].n !== TASKS) throw new Error(`sql: ${rows[0].n} of ${TASKS} completed`);
    return TASKS / seconds;
  } finally {
    await pool.end();
  }
}

/** Tasks per second for BullMQ: TASKS waiting jobs, then WORKERS workers with a no-op processor. */
async function bullmqRound(queueName: string): Promise<number> {
  const connection = { host: REDIS.hostname, port: Number(REDIS.port || 6379), maxRetriesPerRequest: null };
  const prefix = 'wf-bench';
  const queue = new Queue(queueName, { connection, prefix });
  try {
    for (let i = 0; i < TASKS; i += 1000) {
      await queue.addBulk(Array.from({ length: Math.min(1000, TASKS - i) }, (_, j) => ({ name: 't', data: { i: i + j }, opts: { removeOnComplete: true } })));
    }
    let completed = 0;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const started = performance.now();
    const workers = Array.from({ length: WORKERS }, () => {
      const worker = new BullWorker(queueName, async () => null, { connection, prefix, concurrency: 1 });
      worker.on('completed', () => ++completed === TASKS && finish());
      worker.on('error', (error) => console.error('bullmq worker:', error));
      return worker;
    });
    await done;
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(workers.map((w) => w.close()));
    return TASKS / seconds;
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** A round SYSTEMS left out shows as –. */
const rate = (value: number | undefined) => (value === undefined ? '–' : fixed(value, 0));

async function main(): Promise<void> {
  const databaseUrl = databaseOnServer(`wf_bench_claims_${randomBytes(3).toString('hex')}`);
  await recreateDatabase(databaseUrl);
  const profile = process.env.BENCH_CPU_PROF;
  const target = await startRealServer({ databaseUrl, nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [] });
  const results: Array<Partial<Record<System, number>>> = [];
  try {
    console.log(machine());
    console.log(`${TASKS} one-step tasks, ${WORKERS} workers, ${RUNS} runs, rounds interleaved; SDK concurrency 1 and ${SDK_CONCURRENCY}`);
    for (let run = 0; run < RUNS; run++) {
      const figures: Partial<Record<System, number>> = {};
      const order = ORDER.map((_, i) => ORDER[(i + run) % ORDER.length]);
      for (const system of order) {
        const queue = `claims-${run}-${system}`;
        const round = {
          sql: () => sqlRound(databaseUrl, queue),
          api: () => apiRound(target, queue),
          sdk: () => sdkRound(target, queue, 1),
          sdkc: () => sdkRound(target, queue, SDK_CONCURRENCY),
          bullmq: () => bullmqRound(queue),
        }[system];
        figures[system] = await round();
        console.log(`  run ${run + 1} ${system.padEnd(6)} ${rate(figures[system]).padStart(6)} tasks/s`);
      }
      results.push(figures);
    }
    console.log(`\n| run | bare SQL (tasks/s) | API without SDK | SDK (concurrency 1) | SDK (concurrency ${SDK_CONCURRENCY}) | BullMQ | SDK / SQL | SDK c${SDK_CONCURRENCY} / SQL | BullMQ / SQL |`);
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '–' : `${fixed(a / b, 2)}×`);
    results.forEach((f, i) => {
      console.log(`| ${i + 1} | ${rate(f.sql)} | ${rate(f.api)} | ${rate(f.sdk)} | ${rate(f.sdkc)} | ${rate(f.bullmq)} | ${ratio(f.sdk, f.sql)} | ${ratio(f.sdkc, f.sql)} | ${ratio(f.bullmq, f.sql)} |`);
    });
  } finally {
    await target.stop();
    await dropDatabase(databaseUrl);
  }
}

await main();
