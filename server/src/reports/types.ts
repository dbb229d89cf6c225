/** GraphQL types of the operations report. */
import { ArgsType, Field, Float, Int, ObjectType } from 'type-graphql';
import { MaxItems } from '../graphql/query-limits.js';
import { SlowQuery } from '../observability/slow-queries.js';

/** Slow statements a report lists, and forecasts it gives at most. */
export const REPORT_SLOW_QUERIES = 5;
export const MAX_FORECASTS = 100;

@ObjectType({ description: 'Where a metric is heading: the least-squares line through its hourly means over the period' })
export class CapacityForecast {
  @Field() metric!: string;
  @Field() service!: string;
  @Field(() => Float, { description: 'the mean of the newest hour of the period with samples' }) current!: number;
  @Field(() => Float, { description: 'the threshold of the alert rule it is measured against' }) threshold!: number;
  @Field({ description: 'the alert rule that sets the threshold' }) rule!: string;
  @Field(() => Float, {
    nullable: true,
    description: 'days after `to` at which the trend line reaches the threshold; 0: already there; null: heading away, flat, or under 3 hours of data',
  })
  daysUntilThreshold!: number | null;
}

@ObjectType({ description: "The operations guide's checklist over one period (metrics from the rollups, whole hours)" })
export class OperationsReport {
  @Field() from!: Date;
  @Field() to!: Date;
  @Field(() => Float, { nullable: true, description: 'mean of error_rate_percent (service api, every replica) over the period; null without samples' })
  errorRatePercent!: number | null;
  @Field(() => Float, { nullable: true, description: 'mean of response_time_p95_ms (each sample: the p95 of its interval) over the period' })
  p95Ms!: number | null;
  @Field(() => Float, { nullable: true, description: 'p95Ms against the period of the same length just before, in percent (+50: half as slow again)' })
  p95TrendPercent!: number | null;
  @Field(() => Int, { description: 'alerts that fired in the period' }) alertsOpened!: number;
  @Field(() => Float, { nullable: true, description: 'of the alerts that fired in the period: mean seconds from firing to acknowledged' })
  meanTimeToAcknowledgeSeconds!: number | null;
  @Field(() => Float, { nullable: true, description: 'of the alerts that fired in the period: mean seconds from firing to resolved' })
  meanTimeToResolveSeconds!: number | null;
  @Field(() => [SlowQuery], { description: `the ${REPORT_SLOW_QUERIES} slowest statements by mean, with their trend since \`from\`; empty without pg_stat_statements` })
  @MaxItems(REPORT_SLOW_QUERIES)
  slowQueries!: SlowQuery[];
  @Field(() => Float, { nullable: true, description: 'disk_percent (service api, mean of the replicas) in the newest hour of the period with samples' })
  diskPercent!: number | null;
  @Field(() => [CapacityForecast], { description: 'per enabled alert rule with >, >=, < or <= (not component_up) and service' })
  @MaxItems(MAX_FORECASTS)
  capacity!: CapacityForecast[];
  @Field(() => Int, { description: 'workflows that finished SUCCEEDED in the period' }) workflowsSucceeded!: number;
  @Field(() => Int, { description: 'workflows that finished FAILED in the period' }) workflowsFailed!: number;
}

@ArgsType()
export class OperationsReportArgs {
  @Field() from!: Date;
  @Field() to!: Date;
}
