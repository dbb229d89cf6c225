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
import { asInstance } from '../db/sql.js';
import { mutate } from '../live/mutate.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';
import * as rows from './rows.js';

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
  if (!(await rows.statementsInstalled(em))) throw conflict(ENABLE_HINT);
  try {
    return await read();
  } catch (error) {
    // Installed but not preloaded: PostgreSQL refuses to read the view (55000).
    if ((error as { code?: string }).code === '55000') throw conflict(ENABLE_HINT);
    throw error;
  }
}

function trendOf(since: Date, now: { calls: number; totalMs: number }, before?: { calls: number; totalMs: number }): SlowQueryTrend | null {
  const previousCalls = before ? before.calls : 0;
  const previousTotal = before ? before.totalMs : 0;
  const calls = now.calls - previousCalls;
  // Fewer calls than in the snapshot: the statistics were reset since; nothing to compare.
  if (calls < 0) return null;
  const meanMs = calls > 0 ? (now.totalMs - previousTotal) / calls : null;
  const previousMeanMs = previousCalls > 0 ? previousTotal / previousCalls : null;
  const changePercent = meanMs !== null && previousMeanMs ? ((meanMs - previousMeanMs) / previousMeanMs) * 100 : null;
  return asInstance(SlowQueryTrend, { since, calls, meanMs, previousMeanMs, changePercent });
}

export async function slowQueries(ctx: Context, limit: number, since?: Date | null): Promise<SlowQuery[]> {
  requireRole(ctx.viewer, Role.ADMIN);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SLOW_QUERIES) throw badInput(`limit must be 1 to ${MAX_SLOW_QUERIES}`, { field: 'limit' });
  return readSlowQueries(ctx.em, limit, since);
}

/** The `limit` slowest statements by mean, with their trend since `since`; no access check (the report, the weekly mail). */
export async function readSlowQueries(em: EntityManager, limit: number, since?: Date | null): Promise<SlowQuery[]> {
  return withStatements(em, async () => {
    const statements = await rows.slowestStatements(em, limit);
    const snapshot = since ? await rows.snapshotAt(em, since) : null;
    const before = snapshot ? await rows.snapshotFigures(em, snapshot, statements.map((s) => s.queryId)) : new Map<string, { calls: number; totalMs: number }>();
    return statements.map((s) => asInstance(SlowQuery, {
      queryId: s.queryId, query: s.query, calls: s.calls, meanMs: s.calls > 0 ? s.totalMs / s.calls : 0, maxMs: s.maxMs, totalMs: s.totalMs, rows: s.rows,
      trend: snapshot ? trendOf(snapshot, s, before.get(s.queryId)) : null,
    }));
  });
}

/** Stores a snapshot of the statements with the most total time, and forgets old ones; returns its time. */
export async function takeSnapshot(em: EntityManager, keepDays = SNAPSHOT_KEEP_DAYS): Promise<Date> {
  return withStatements(em, () => rows.insertSnapshot(em, SNAPSHOT_STATEMENTS, keepDays));
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
  return rows.snapshotTimes(ctx.em, first);
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
