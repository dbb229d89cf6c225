/**
 * Data access for slow queries (ARCHITECTURE.md, "Data access"): `pg_stat_statements`, one row
 * per statement of this database, and the hourly snapshots of it kept in `slow_query_snapshots`.
 */
import type { Queryable } from '../db/read-routing.js';
import { toDate } from '../db/sql.js';

/** One statement's counters (pg_stat_statements splits them by user and nesting; these are summed). */
export interface StatementFigures {
  queryId: string;
  query: string;
  calls: number;
  totalMs: number;
  maxMs: number;
  rows: number;
}

/** One row per statement of this database. */
const STATEMENTS = `select queryid, min(query) as query, sum(calls) as calls, sum(total_exec_time) as total_ms,
                           max(max_exec_time) as max_ms, sum(rows) as rows
                      from pg_stat_statements
                     where dbid = (select oid from pg_database where datname = current_database()) and queryid is not null
                     group by queryid`;

export async function statementsInstalled(db: Queryable): Promise<boolean> {
  const [{ installed }] = await db.execute(`select exists (select 1 from pg_extension where extname = 'pg_stat_statements') as installed`);
  return installed;
}

/** The `limit` statements with the highest mean time. */
export async function slowestStatements(db: Queryable, limit: number): Promise<StatementFigures[]> {
  const rows = await db.execute(`select * from (${STATEMENTS}) s order by total_ms / nullif(calls, 0) desc nulls last limit ?`, [limit]);
  return rows.map((r: Record<string, any>) => ({
    queryId: String(r.queryid), query: r.query, calls: Number(r.calls), totalMs: Number(r.total_ms), maxMs: Number(r.max_ms), rows: Number(r.rows),
  }));
}

/** The newest snapshot taken at or before `since`, or null. */
export async function snapshotAt(db: Queryable, since: Date): Promise<Date | null> {
  const [row] = await db.execute('select max(taken_at) as taken_at from slow_query_snapshots where taken_at <= ?', [since]);
  return row?.taken_at ? toDate(row.taken_at as string) : null;
}

/** Calls and total time of these statements in the snapshot taken at `takenAt`, by query id. */
export async function snapshotFigures(db: Queryable, takenAt: Date, queryIds: string[]): Promise<Map<string, { calls: number; totalMs: number }>> {
  const figures = new Map<string, { calls: number; totalMs: number }>();
  if (!queryIds.length) return figures;
  const rows = await db.execute('select query_id, calls, total_ms from slow_query_snapshots where taken_at = ? and query_id = any(?::bigint[])', [takenAt, `{${queryIds.join(',')}}`]);
  for (const row of rows) figures.set(String(row.query_id), { calls: Number(row.calls), totalMs: Number(row.total_ms) });
  return figures;
}

/** Stores the `statements` statements with the most total time as a snapshot taken now, and forgets those older than `keepDays`; returns its time. */
export async function insertSnapshot(tx: Queryable, statements: number, keepDays: number): Promise<Date> {
  const [{ now }] = await tx.execute('select now() as now');
  await tx.execute(
    `insert into slow_query_snapshots (taken_at, query_id, query, calls, total_ms, rows)
     select ?, queryid, query, calls, total_ms, rows from (${STATEMENTS}) s order by total_ms desc limit ?`,
    [toDate(now as string), statements],
  );
  await tx.execute('delete from slow_query_snapshots where taken_at < now() - make_interval(days => ?)', [keepDays]);
  return toDate(now as string);
}

/** When snapshots were taken, newest first. */
export async function snapshotTimes(db: Queryable, first: number): Promise<Date[]> {
  const rows = await db.execute('select distinct taken_at from slow_query_snapshots order by taken_at desc limit ?', [first]);
  return rows.map((row: Record<string, any>) => toDate(row.taken_at as string));
}
