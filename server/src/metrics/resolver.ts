/** GraphQL surface of metrics: push samples, list names, read bucketed series. */
import { Arg, Args, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { requireViewer } from '../platform/auth.js';
import { recordMetrics } from './ingest.js';
import { metricNames, metricSeries } from './series.js';
import { MetricPoint, MetricSampleInput, MetricSeriesArgs } from './types.js';

@Resolver()
export class MetricResolver {
  @Query(() => [String], { description: 'every metric name with samples, sorted' })
  metricNames(@Ctx() ctx: Context): Promise<string[]> {
    requireViewer(ctx.viewer);
    return metricNames(ctx.em);
  }

  @Query(() => [MetricPoint], { description: 'bucketed samples, one series per service and instance' })
  metricSeries(@Args() args: MetricSeriesArgs, @Ctx() ctx: Context): Promise<MetricPoint[]> {
    return metricSeries(ctx, args);
  }

  @Mutation(() => Int, { description: 'stores up to 10,000 samples at once, all or none; returns how many were stored' })
  recordMetrics(@Arg('samples', () => [MetricSampleInput]) samples: MetricSampleInput[], @Ctx() ctx: Context): Promise<number> {
    return recordMetrics(ctx, samples);
  }
}
