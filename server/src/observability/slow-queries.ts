/**
 * The slowest statements by mean time, from `pg_stat_statements` (admin only). When the
 * extension is missing the error says how to turn it on; embedded mode turns it on itself.
 */
import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { Context } from '../context.js';
import { requireRole, Role } from '../platform/auth.js';
import { badInput, conflict } from '../platform/errors.js';

@ObjectType({ description: 'One normalized statement and its timings since statistics were last reset' })
export class SlowQuery {
  @Field({ description: 'the statement, with constants replaced by $n' }) query!: string;
  @Field(() => Int) calls!: number;
  @Field(() => Float) meanMs!: number;
  @Field(() => Float) maxMs!: number;
  @Field(() => Float) totalMs!: number;
  @Field(() => Float) rows!: number;
}

export const ENABLE_HINT =
  "pg_stat_statements is not available: add shared_preload_libraries = 'pg_stat_statements' to postgresql.conf, " +
  'restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; in this database';

export async function slowQueries(ctx: Context, limit: number): Promise<SlowQuery[]> {
  requireRole(ctx.viewer, Role.ADMIN);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badInput('limit must be 1 to 100', { field: 'limit' });
  const [{ installed }] = await ctx.em.execute(`select exists (select 1 from pg_extension where extname = 'pg_stat_statements') as installed`);
  if (!installed) throw conflict(ENABLE_HINT);
  try {
    const rows = await ctx.em.execute(
      `select query, calls, mean_exec_time, max_exec_time, total_exec_time, rows
         from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
        order by mean_exec_time desc limit ?`,
      [limit],
    );
    return rows.map((r: Record<string, any>) => ({
      query: r.query,
      calls: Number(r.calls),
      meanMs: Number(r.mean_exec_time),
      maxMs: Number(r.max_exec_time),
      totalMs: Number(r.total_exec_time),
      rows: Number(r.rows),
    }));
  } catch (error) {
    // Installed but not preloaded: PostgreSQL refuses to read the view (55000).
    if ((error as { code?: string }).code === '55000') throw conflict(ENABLE_HINT);
    throw error;
  }
}
