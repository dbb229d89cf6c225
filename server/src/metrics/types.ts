/** GraphQL types of metrics: points, samples pushed by integrations, series arguments. */
import { ArgsType, Field, Float, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

// simpleResolvers: a year of 50 series is 18,250 points; graphql-jit reads their fields inline
// instead of through type-graphql's per-field wrapper (five calls a point).
@ObjectType({ description: 'One sample, or one bucket of a series', simpleResolvers: true })
export class MetricPoint {
  @Field() name!: string;
  @Field() service!: string;
  @Field(() => String, { nullable: true, description: 'the replica or host that measured it; null when pushed without one' })
  instance!: string | null;
  @Field({ description: 'sample time, or the start of the bucket' }) time!: Date;
  @Field(() => Float) value!: number;
}

@InputType()
export class MetricSampleInput {
  @Field({ description: '1 to 200 characters' }) name!: string;
  @Field({ description: '1 to 200 characters' }) service!: string;
  @Field(() => Float, { description: 'a finite number' }) value!: number;
  @Field(() => Date, { nullable: true, description: 'defaults to now; at most 5 minutes in the future' })
  time?: Date | null;
  @Field(() => String, { nullable: true, description: 'the host or process that measured it' })
  instance?: string | null;
}

export enum MetricAggregate {
  AVG = 'AVG',
  MIN = 'MIN',
  MAX = 'MAX',
  P95 = 'P95',
}
registerEnumType(MetricAggregate, { name: 'MetricAggregate', description: 'how the samples of one bucket become its value' });

@ArgsType()
export class MetricSeriesArgs {
  @Field() name!: string;
  @Field(() => String, { nullable: true, description: 'every service when omitted' }) service?: string | null;
  @Field(() => String, { nullable: true, description: 'every instance when omitted' }) instance?: string | null;
  @Field() from!: Date;
  @Field(() => Date, { nullable: true, description: 'defaults to now' }) to?: Date | null;
  @Field(() => Int, {
    nullable: true,
    description: 'bucket width; defaults to the range divided into at most 1,000 buckets. At most 10,000 buckets per series.',
  })
  bucketSeconds?: number | null;
  @Field(() => MetricAggregate, { nullable: true, description: 'defaults to AVG' }) aggregate?: MetricAggregate | null;
}
