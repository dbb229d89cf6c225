/**
 * `npm run bench:seed`: a fresh benchmark database with 100 users, 5,000 workflows and
 * 100,000 tasks (20 per workflow, chained dependencies, mixed statuses), loaded with a few
 * set-based INSERT … SELECT statements instead of one mutation at a time.
 *
 * BENCH_DATABASE_URL (default: DATABASE_URL's server, database `wf_bench`) is dropped and
 * recreated. The admin below signs the benchmarks in.
 */
import 'reflect-metadata';
import pg from 'pg';
import { ENTITIES } from '../server/src/app/entities.js';
import { applyMigrations, openDatabase } from '../server/src/db/orm.js';
import { hashPassword } from '../server/src/users/passwords.js';

export const BENCH_ADMIN = { email: 'admin@bench.local', password: 'bench-password' };
export const SEED_SIZE = { users: 100, workflows: 5_000, tasksPerWorkflow: 20 };

/** The benchmark database's URL, from BENCH_DATABASE_URL or DATABASE_URL's server. */
export function benchDatabaseUrl(env = process.env): string {
  return env.BENCH_DATABASE_URL ?? databaseOnServer('wf_bench', env);
}

/** A database of this name on DATABASE_URL's PostgreSQL server (default: the local one). */
export function databaseOnServer(name: string, env = process.env): string {
  const url = new URL(env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs statements against the `postgres` database of `url`'s server, with `url`'s database name checked. */
async function onServer(url: string, statements: (name: string) => string[]): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  if (!/^\w+$/.test(name)) throw new Error(`unexpected database name ${name}`);
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    for (const sql of statements(name)) await admin.query(sql);
  } finally {
    await admin.end();
  }
}

export const recreateDatabase = (url: string): Promise<void> =>
  onServer(url, (name) => [`drop database if exists ${name} with (force)`, `create database ${name}`]);

export const dropDatabase = (url: string): Promise<void> => onServer(url, (name) => [`drop database if exists ${name} with (force)`]);

const STATEMENTS = (adminHash: string, size = SEED_SIZE) => [
  [
    `insert into users (email, name, role, password_hash)
     select case when i = 1 then $1 else 'user' || i || '@bench.local' end, 'User ' || i,
            case when i = 1 then 'ADMIN' when i % 10 = 0 then 'VIEWER' else 'MEMBER' end, $2
     from generate_series(1, $3::int) i`,
    [BENCH_ADMIN.email, adminHash, size.users],
  ],
  [
    // Statuses cycle; timestamps are distinct so "newest first" is a total order.
    `insert into workflows (owner_id, name, description, status, created_at, updated_at, started_at, finished_at)
     select u.id, 'Workflow ' || i, 'Benchmark workflow number ' || i,
            (array['DRAFT','PENDING','RUNNING','SUCCEEDED','FAILED','CANCELLED'])[1 + i % 6],
            now() - i * interval '1 minute', now() - i * interval '1 minute',
            case when i % 6 >= 2 then now() - i * interval '1 minute' end,
            case when i % 6 >= 3 then now() - i * interval '1 minute' + interval '30 seconds' end
     from generate_series(1, $1::int) i
     join (select id, row_number() over (order by email) as n from users) u on u.n = 1 + i % $2::int`,
    [size.workflows, size.users],
  ],
  [
    `insert into tasks (workflow_id, name, position, status, queue, attempts, max_attempts, error, ready_at, started_at, finished_at)
     select w.id, 'task-' || p, p, s.status, case when p % 5 = 0 then 'heavy' else 'default' end,
            case when s.status in ('PENDING', 'READY') then 0 else 1 + p % 3 end, 3,
            case when s.status = 'FAILED' then 'exit code ' || p end,
            case when s.status <> 'PENDING' then w.created_at end,
            case when s.status in ('RUNNING', 'SUCCEEDED', 'FAILED') then w.created_at + p * interval '1 second' end,
            case when s.status in ('SUCCEEDED', 'FAILED') then w.created_at + (p + 1) * interval '1 second' end
     from workflows w cross join generate_series(0, $1::int - 1) p
     cross join lateral (select (array['SUCCEEDED','SUCCEEDED','RUNNING','READY','PENDING','PENDING','FAILED','CANCELLED'])
                                [1 + (p + hashtext(w.id::text) & 7) % 8] as status) s
     -- A workflow's tasks are written together, oldest workflow first, as createWorkflow does.
     order by w.created_at, p`,
    [size.tasksPerWorkflow],
  ],
  [
    // Each task waits for the one before it; every fourth also for the one three back.
    `insert into task_dependencies (task_id, depends_on_id)
     select t.id, d.id from tasks t
     join tasks d on d.workflow_id = t.workflow_id
      and (d.position = t.position - 1 or (t.position % 4 = 0 and d.position = t.position - 3))
     where t.position > 0`,
    [],
  ],
] as const;

export async function seedBenchDatabase(url = benchDatabaseUrl()): Promise<{ url: string; ms: number; counts: Record<string, number> }> {
  const started = performance.now();
  await recreateDatabase(url);
  const orm = await openDatabase({ url, poolMin: 0, poolMax: 2, entities: ENTITIES });
  await applyMigrations(orm, url);
  await orm.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const adminHash = await hashPassword(BENCH_ADMIN.password);
    for (const [sql, params] of STATEMENTS(adminHash)) await client.query(sql, [...params]);
    await client.query('analyze');
    const { rows } = await client.query(
      `select (select count(*) from users)::int as users, (select count(*) from workflows)::int as workflows,
              (select count(*) from tasks)::int as tasks, (select count(*) from task_dependencies)::int as dependencies`,
    );
    return { url, ms: Math.round(performance.now() - started), counts: rows[0] };
  } finally {
    await client.end();
  }
}

/** Seeds the database unless it already holds the full data set (benchmarks only read it). */
export async function ensureSeeded(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  const tasks = await client.connect().then(
    () => client.query('select count(*)::int as n from tasks').then((r) => r.rows[0].n as number, () => 0),
    () => 0,
  );
  await client.end().catch(() => undefined);
  const expected = SEED_SIZE.workflows * SEED_SIZE.tasksPerWorkflow;
  if (tasks !== expected) console.log(`seeded in ${(await seedBenchDatabase(url)).ms} ms`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await seedBenchDatabase();
  console.log(`seeded ${result.url} in ${result.ms} ms:`, result.counts);
}
