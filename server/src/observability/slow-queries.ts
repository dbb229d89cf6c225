/**
 * The slowest statements by mean time, from `pg_stat_statements` (admin only). When the
 * extension is missing the error says how to turn it on; embedded mode turns it on itself.
 *
 * Its counters only grow (until someone resets them), so a trend needs a past reading: one
 * replica (the snapshot lock's holder) stores a snapshot of every statement's calls, total time
 * and rows each hour, and an admin can take one now. `slowQueries(since:)` then gives, per
 * statement, the calls and mean time since the newest snapshot at or before `since`, against its
 * mean up to that snapshot. Snapshots are kept `SNAPSHOT_KEEP_DAYS`.
 */
import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { AppServices, Context } from '../app/context.js';
import { requireRole, Role } from '../core/viewer.js';
import { badInput, conflict } from '../core/errors.js';
import type { EntityManager } from '../db/orm.js';
import { leadership } from '../db/leader.js';
import { repeat } from '../core/repeat.js';
import { toDate } from '../db/sql.js';
import { mutate } from '../live/mutate.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';

@ObjectType({ description: 'What one statement did since a snapshot of pg_stat_statements' })
export class SlowQueryTrend {
  @Field({ description: 'when the snapshot compared against was taken' }) since!: Date;
  @Field(() => Float, { description: 'calls since the snapshot' }) calls!: number;
  @Field(() => Float, { nullable: true, description: 'mean time of the calls since the snapshot; null without calls' })
  meanMs!: number | null;
  @Field(() => Float, { nullable: true, description: 'mean time up to the snapshot; null when the statement is newer than it' })
  previousMeanMs!: number | null;
  @Field(() => Float, { nullable: true, description: 'meanMs against previousMeanMs, in percent (+50: half as slow again)' })
  changePercent!: number | null;
}

@ObjectType({ description: 'One normalized statement and its timings since statistics were last reset' })
export class SlowQuery {
  @Field({ description: "pg_stat_statements' queryid, as text (a 64-bit number)" }) queryId!: string;
  @Field({ description: 'the statement, with constants replaced by $n' }) query!: string;
  @Field(() => Int) calls!: number;
  @Field(() => Float) meanMs!: number;
  @Field(() => Float) maxMs!: number;
  @Field(() => Float) totalMs!: number;
  @Field(() => Float) rows!: number;
  @Field(() => SlowQueryTrend, { nullable: true, description: 'only with `since`, and only when a snapshot that old exists and the statistics were not reset since' })
  trend!: SlowQueryTrend | null;
}

export const ENABLE_HINT =
  "pg_stat_statements is not available: add shared_preload_libraries = 'pg_stat_statements' to postgresql.conf, " +
  'restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; in this database';

export const MAX_SLOW_QUERIES = 100;
export const MAX_SNAPSHOTS = 200;
/** statements per snapshot: the ones with the most total time */
const SNAPSHOT_STATEMENTS = 500;
export const SNAPSHOT_KEEP_DAYS = 35;
const SNAPSHOT_PERIOD_MS = 3_600_000;

/** Throws CONFLICT with the hint unless pg_stat_statements can be read here. */
async function withStatements<T>(em: EntityManager, read: () => Promise<T>): Promise<T> {
  const [{ installed }] = await em.execute(`select exists (select 1 from pg_extension where extname = 'pg_stat_statements') as installed`);
  if (!installed) throw conflict(ENABLE_HINT);
  try {
    return await read();
  } catch (error) {
    // Installed but not preloaded: PostgreSQL refuses to read the view (55000).
    if ((error as { code?: string }).code === '55000') throw conflict(ENABLE_HINT);
    throw error;
  }
}

/** One row per statement of this database (pg_stat_statements splits them by user and nesting). */
const STATEMENTS = `select queryid, min(query) as query, sum(calls) as calls, sum(total_exec_time) as total_ms,
                           max(max_exec_time) as max_ms, sum(rows) as rows
                      from pg_stat_statements
                     where dbid = (select oid from pg_database where datname = current_database()) and queryid is not null
                     group by queryid`;

async function snapshotAt(em: EntityManager, since: Date): Promise<Date | null> {
  const [row] = await em.execute('select max(taken_at) as taken_at from slow_query_snapshots where taken_at <= ?', [since]);
  return row?.taken_at ? toDate(row.taken_at as string) : null;
}

function trendOf(since: Date, now: { calls: number; totalMs: number }, before?: { calls: number; total_ms: number }): SlowQueryTrend | null {
  const previousCalls = before ? Number(before.calls) : 0;
  const previousTotal = before ? Number(before.total_ms) : 0;
  const calls = now.calls - previousCalls;
  // Fewer calls than in the snapshot: the statistics were reset since; nothing to compare.
  if (calls < 0) return null;
  const meanMs = calls > 0 ? (now.totalMs - previousTotal) / calls : null;
  const previousMeanMs = previousCalls > 0 ? previousTotal / previousCalls : null;
  const changePercent = meanMs !== null && previousMeanMs ? ((meanMs - previousMeanMs) / previousMeanMs) * 100 : null;
  return { since, calls, meanMs, previousMeanMs, changePercent };
}

export async function slowQueries(ctx: Context, limit: number, since?: Date | null): Promise<SlowQuery[]> {
  requireRole(ctx.viewer, Role.ADMIN);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SLOW_QUERIES) throw badInput(`limit must be 1 to ${MAX_SLOW_QUERIES}`, { field: 'limit' });
  return readSlowQueries(ctx.em, limit, since);
}

/** The `limit` slowest statements by mean, with their trend since `since`; no access check (the report, the weekly mail). */
export async function readSlowQueries(em: EntityManager, limit: number, since?: Date | null): Promise<SlowQuery[]> {
  return withStatements(em, async () => {
    const rows = await em.execute(`select * from (${STATEMENTS}) s order by total_ms / nullif(calls, 0) desc nulls last limit ?`, [limit]);
    const snapshot = since ? await snapshotAt(em, since) : null;
    const before = new Map<string, { calls: number; total_ms: number }>();
    if (snapshot && rows.length) {
      const ids = `{${rows.map((r: Record<string, any>) => String(r.queryid)).join(',')}}`;
      for (const row of await em.execute('select query_id, calls, total_ms from slow_query_snapshots where taken_at = ? and query_id = any(?::bigint[])', [snapshot, ids])) {
        before.set(String(row.query_id), row as { calls: number; total_ms: number });
      }
    }
    return rows.map((r: Record<string, any>) => {
      const calls = Number(r.calls);
      const totalMs = Number(r.total_ms);
      return {
        queryId: String(r.queryid),
        query: r.query,
        calls,
        meanMs: calls > 0 ? totalMs / calls : 0,
        maxMs: Number(r.max_ms),
        totalMs,
        rows: Number(r.rows),
        trend: snapshot ? trendOf(snapshot, { calls, totalMs }, before.get(String(r.queryid))) : null,
      };
    });
  });
}

/** Stores a snapshot of the statements with the most total time, and forgets old ones; returns its time. */
export async function takeSnapshot(em: EntityManager, keepDays = SNAPSHOT_KEEP_DAYS): Promise<Date> {
  return withStatements(em, async () => {
    const [{ now }] = await em.execute('select now() as now');
    await em.execute(
      `insert into slow_query_snapshots (taken_at, query_id, query, calls, total_ms, rows)
       select ?, queryid, query, calls, total_ms, rows from (${STATEMENTS}) s order by total_ms desc limit ?`,
      [toDate(now as string), SNAPSHOT_STATEMENTS],
    );
    await em.execute('delete from slow_query_snapshots where taken_at < now() - make_interval(days => ?)', [keepDays]);
    return toDate(now as string);
  });
}

/** `snapshotSlowQueries`: an admin takes a snapshot now. */
export async function snapshotSlowQueries(ctx: Context): Promise<Date> {
  requireRole(ctx.viewer, Role.ADMIN);
  return mutate(ctx, (tx) => takeSnapshot(tx));
}

/** `slowQuerySnapshots`: when snapshots were taken, newest first. */
export async function slowQuerySnapshots(ctx: Context, first: number): Promise<Date[]> {
  requireRole(ctx.viewer, Role.ADMIN);
  if (!Number.isInteger(first) || first < 1 || first > MAX_SNAPSHOTS) throw badInput(`first must be 1 to ${MAX_SNAPSHOTS}`, { field: 'first' });
  const rows = await ctx.em.execute('select distinct taken_at from slow_query_snapshots order by taken_at desc limit ?', [first]);
  return rows.map((row: Record<string, any>) => toDate(row.taken_at as string));
}

/** The hourly snapshot, by one replica; nothing (and no noise) where pg_stat_statements is missing. */
export function startSlowQuerySnapshots(app: AppServices, directUrl: string) {
  const lock = leadership(directUrl, ADVISORY_LOCKS.slowQuerySnapshots, app.logger);
  const job = repeat('slow-query-snapshots', SNAPSHOT_PERIOD_MS, async () => {
    if (!(await lock.isLeader())) return;
    await takeSnapshot(app.orm.em.fork() as EntityManager).catch((error) => {
      if ((error as { extensions?: { code?: string } }).extensions?.code !== 'CONFLICT') throw error;
    });
  }, app);
  return {
    async stop() {
      await job.stop();
      await lock.release();
    },
  };
}
