/** GraphQL inputs and pages for workflows. */
import { ArgsType, Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../graphql/node.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { MaxItems } from '../graphql/query-limits.js';
import { Workflow, WorkflowStatus } from './entity.js';

@InputType({ description: 'How failed attempts of a task are retried (while attempts remain)' })
export class RetryPolicyInput {
  @Field(() => Float, { nullable: true, description: 'delay before the second attempt, 0.1 to 86400 s; defaults to 1' })
  initialIntervalSeconds?: number | null;

  @Field(() => Float, { nullable: true, description: 'each further delay is this many times the last, 1 to 100; defaults to 2' })
  backoffCoefficient?: number | null;

  @Field(() => Float, { nullable: true, description: 'the longest delay, initialIntervalSeconds to 604800 s; defaults to 300' })
  maximumIntervalSeconds?: number | null;

  @Field(() => [String], { nullable: true, description: 'failTask errorType values that fail the task at once (up to 50); LOST and TIMED_OUT count too' })
  nonRetryableErrors?: string[] | null;
}

@InputType({ description: 'A task of a new workflow' })
export class TaskInput {
  @Field() name!: string;

  @Field(() => [String], { nullable: true, description: 'names of sibling tasks in the same input' })
  dependsOn?: string[] | null;

  @Field(() => String, { nullable: true, description: 'defaults to "default"' })
  queue?: string | null;

  @Field(() => Int, { nullable: true, description: 'defaults to 1' })
  maxAttempts?: number | null;

  @Field(() => Int, { nullable: true, description: '-1000 to 1000, defaults to 0; claimTask hands out higher first, then the oldest READY' })
  priority?: number | null;

  @Field(() => Int, { nullable: true, description: 'start-to-close limit of one attempt, 1 to 604800 (7 days); defaults to none' })
  timeoutSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'a RUNNING attempt not heart-beaten within this is lost, 1 to 86400; defaults to 300' })
  heartbeatTimeoutSeconds?: number | null;

  @Field(() => RetryPolicyInput, { nullable: true, description: 'unset: a failed attempt is READY again at once' })
  retry?: RetryPolicyInput | null;
}

@InputType()
export class CreateWorkflowInput {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [TaskInput], { nullable: true }) tasks?: TaskInput[] | null;
  @Field(() => String, { nullable: true, description: 'as the Idempotency-Key header: a retry with the same key answers the first result' })
  idempotencyKey?: string | null;
}

@ArgsType()
export class WorkflowsArgs {
  @Field(() => Int, { nullable: true, description: 'page size, 1 to 100; defaults to 20' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => [WorkflowStatus], { nullable: true })
  status?: WorkflowStatus[] | null;

  @Field(() => String, { nullable: true, description: 'matches names and descriptions' })
  search?: string | null;
}

@ObjectType()
export class WorkflowEdge {
  @Field() cursor!: string;
  @Field(() => Workflow) node!: Workflow;
}

@ObjectType()
export class WorkflowConnection {
  @Field(() => [WorkflowEdge])
  @MaxItems(MAX_PAGE_SIZE)
  edges!: WorkflowEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** null only when the query does not select it (then it is not counted) */
  @Field(() => Int) totalCount!: number | null;
}
