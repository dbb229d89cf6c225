/** GraphQL inputs and pages for workflows. */
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
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

@InputType({ description: 'Which workflows a bulk action takes: all of the given conditions hold; a MEMBER only ever matches its own' })
export class WorkflowFilter {
  @Field(() => [WorkflowStatus], { nullable: true }) status?: WorkflowStatus[] | null;
  @Field(() => String, { nullable: true, description: 'matches names and descriptions' }) search?: string | null;
  @Field(() => ID, { nullable: true }) ownerId?: string | null;
  @Field(() => ID, { nullable: true }) templateId?: string | null;
  @Field(() => ID, { nullable: true }) scheduleId?: string | null;
  @Field(() => Date, { nullable: true, description: 'created at or after' }) createdAfter?: Date | null;
  @Field(() => Date, { nullable: true, description: 'created before' }) createdBefore?: Date | null;
}

export enum BulkAction {
  /** DRAFT, PENDING and RUNNING workflows → CANCELLED (as cancelWorkflow) */
  CANCEL = 'CANCEL',
  /** FAILED workflows: their failed tasks retried (as retryTask), the workflow running again */
  RETRY_FAILED = 'RETRY_FAILED',
  /** any workflow, deleted (as deleteWorkflow) */
  DELETE = 'DELETE',
}
registerEnumType(BulkAction, { name: 'BulkAction' });

@ObjectType({ description: 'What a bulk action matched and changed' })
export class BulkResult {
  @Field(() => Int, { description: 'workflows the filter matches that the action applies to (the viewer may change them all)' }) matched!: number;
  @Field(() => Int, { description: 'workflows changed by this call: 0 for a dry run; at most 1,000 a call (call again for the rest)' }) changed!: number;
  @Field() dryRun!: boolean;
}
