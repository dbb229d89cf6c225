/** GraphQL surface of the server's own diagnostics. */
import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../app/context.js';
import { MaxItems } from '../graphql/query-limits.js';
import { MAX_SLOW_QUERIES, MAX_SNAPSHOTS, SlowQuery, slowQueries, slowQuerySnapshots, snapshotSlowQueries } from './slow-queries.js';

@Resolver()
export class DiagnosticsResolver {
  @Query(() => [SlowQuery], {
    description: 'admin only: the slowest statements by mean time (pg_stat_statements); CONFLICT with how to enable it when missing. ' +
      'With `since`, each gets its trend against the newest snapshot taken at or before then',
  })
  @MaxItems(MAX_SLOW_QUERIES)
  slowQueries(
    @Arg('limit', () => Int, { defaultValue: 10 }) limit: number,
    @Arg('since', () => Date, { nullable: true }) since: Date | null,
    @Ctx() ctx: Context,
  ): Promise<SlowQuery[]> {
    return slowQueries(ctx, limit, since);
  }

  @Query(() => [Date], { description: 'admin only: when pg_stat_statements snapshots were taken (hourly, and on demand), newest first' })
  @MaxItems(MAX_SNAPSHOTS)
  slowQuerySnapshots(@Arg('first', () => Int, { defaultValue: 50 }) first: number, @Ctx() ctx: Context): Promise<Date[]> {
    return slowQuerySnapshots(ctx, first);
  }

  @Mutation(() => Date, { description: 'admin only: takes a pg_stat_statements snapshot now (CONFLICT when the extension is missing); returns its time' })
  snapshotSlowQueries(@Ctx() ctx: Context): Promise<Date> {
    return snapshotSlowQueries(ctx);
  }
}
