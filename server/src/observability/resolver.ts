/** GraphQL surface of the server's own diagnostics. */
import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { SlowQuery, slowQueries } from './slow-queries.js';

@Resolver()
export class DiagnosticsResolver {
  @Query(() => [SlowQuery], {
    description: 'admin only: the slowest statements by mean time (pg_stat_statements); CONFLICT with how to enable it when missing',
  })
  slowQueries(@Arg('limit', () => Int, { defaultValue: 10 }) limit: number, @Ctx() ctx: Context): Promise<SlowQuery[]> {
    return slowQueries(ctx, limit);
  }
}
