/** GraphQL surface of metrics: push samples, list names, read bucketed series. */
import { Arg, Args, Ctx, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { recordMetrics } from './ingest.js';
import { followMetricPoints } from './events.js';
import { MaxItems } from '../graphql/query-limits.js';
import { MAX_METRIC_NAMES, MAX_POINTS, metricNames, metricSeries } from './series.js';
import { MetricPoint, MetricSampleInput, MetricSeriesArgs } from './types.js';

@Resolver()
export class MetricResolver {
  @Query(() => [String], { description: `every metric name with samples, sorted (the first ${MAX_METRIC_NAMES})` })
  @MaxItems(MAX_METRIC_NAMES)
  metricNames(@Ctx() ctx: Context): Promise<string[]> {
    requireViewer(ctx.viewer);
    return metricNames(ctx.em);
  }

  @Query(() => [MetricPoint], { description: 'bucketed samples, one series per service and instance' })
  @MaxItems(MAX_POINTS)
  metricSeries(@Args() args: MetricSeriesArgs, @Ctx() ctx: Context): Promise<MetricPoint[]> {
    return metricSeries(ctx, args);
  }

  @Mutation(() => Int, { description: 'stores up to 10,000 samples at once, all or none; returns how many were stored' })
  recordMetrics(@Arg('samples', () => [MetricSampleInput]) samples: MetricSampleInput[], @Ctx() ctx: Context): Promise<number> {
    return recordMetrics(ctx, samples);
  }

  @Subscription(() => MetricPoint, {
    description: 'every sample stored from now on (self-sampling and recordMetrics), optionally of some names and one service',
    subscribe: ({ args, context }) => followMetricPoints(context as Context, args.names, args.service),
  })
  metricSampled(
    @Root() point: MetricPoint,
    @Arg('names', () => [String], { nullable: true }) _names?: string[] | null,
    @Arg('service', () => String, { nullable: true }) _service?: string | null,
  ): MetricPoint {
    return point;
  }
}
