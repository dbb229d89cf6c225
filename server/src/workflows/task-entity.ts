/** A task: one step of a workflow, claimed and run by workers, possibly after other tasks. */
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { JSONResolver } from 'graphql-scalars';
import { Node } from '../graphql/node.js';
import { MaxItems } from '../graphql/query-limits.js';

/** Tasks claimTasks and completeAndClaimTasks hand out, and completions completeAndClaimTasks takes, at most per request. */
export const MAX_TASK_BATCH = 100;

/** How many error types a retry policy may name as non-retryable. */
export const MAX_NON_RETRYABLE_ERRORS = 50;

export enum TaskStatus {
  PENDING = 'PENDING',
  READY = 'READY',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(TaskStatus, { name: 'TaskStatus' });

@ObjectType({ description: 'How a failed attempt is retried: after initialIntervalSeconds × backoffCoefficient^(attempt − 1), at most maximumIntervalSeconds', simpleResolvers: true })
export class RetryPolicy {
  @Field(() => Float) initialIntervalSeconds!: number;
  @Field(() => Float) backoffCoefficient!: number;
  @Field(() => Float) maximumIntervalSeconds!: number;
  @Field(() => [String], { description: 'errorType values that fail the task at once' })
  @MaxItems(MAX_NON_RETRYABLE_ERRORS)
  nonRetryableErrors!: string[];
}

@ObjectType({ description: 'One attempt of a task', simpleResolvers: true })
export class TaskRun {
  @Field(() => Int) attempt!: number;
  @Field(() => String, { nullable: true }) workerId!: string | null;
  @Field(() => Date, { nullable: true, description: 'when the attempt could first be claimed (the task became READY, or its backoff ended); it queued until startedAt' }) readyAt!: Date | null;
  @Field(() => Date) startedAt!: Date;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'SUCCEEDED, FAILED, TIMED_OUT, LOST or CANCELLED; null while it runs' }) outcome!: string | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => String, { nullable: true }) errorType!: string | null;
}

@Entity({ tableName: 'tasks' })
// simpleResolvers (here and on the other types of the workflow list): plain fields are read by
// graphql's default resolver, which graphql-jit inlines, instead of through type-graphql's
// per-field wrapper (it only serves middlewares, which this schema does not use).
@ObjectType({ implements: Node, simpleResolvers: true })
export class Task {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'attempts' | 'maxAttempts' | 'priority' | 'heartbeatTimeoutSeconds';

  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ type: 'uuid' })
  workflowId!: string;

  @Property({ type: 'text' })
  @Field()
  name!: string;

  /** order of the task in the workflow's input */
  @Property({ type: 'integer' })
  position!: number;

  @Property({ type: 'text' })
  @Field(() => TaskStatus)
  status!: TaskStatus;

  @Property({ type: 'text' })
  @Field()
  queue!: string;

  @Property({ type: 'integer' })
  @Field(() => Int)
  attempts = 0;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'the number of the last attempt allowed; retryTask raises it by as many as the task was created with' })
  maxAttempts = 1;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'claimTask hands out higher first, then the oldest READY' })
  priority = 0;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'start-to-close limit of one attempt; past it the attempt is TIMED_OUT' })
  timeoutSeconds?: number | null;

  @Property({ type: 'integer' })
  @Field(() => Int, { description: 'a RUNNING attempt not heart-beaten within this is LOST' })
  heartbeatTimeoutSeconds = 300;

  @Property({ type: 'json', nullable: true })
  @Field(() => RetryPolicy, { nullable: true, description: 'null: a failed attempt is READY again at once' })
  retry?: RetryPolicy | null;

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true, description: 'a READY task backing off after a failed attempt: claimTask skips it until then' })
  nextAttemptAt?: Date | null;

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true, description: 'while RUNNING: when the attempt is lost unless heart-beaten' })
  leaseExpiresAt?: Date | null;

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true, description: 'the current attempt\'s last heartbeat' })
  lastHeartbeatAt?: Date | null;

  @Property({ type: 'json', nullable: true })
  @Field(() => JSONResolver, { nullable: true, description: 'what the current attempt\'s last heartbeat reported' })
  heartbeatDetails?: unknown;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'who claimed the current (or last) attempt, as claimTask was told' })
  workerId?: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true })
  error?: string | null;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'failTask\'s errorType, or LOST / TIMED_OUT for an attempt the server ended' })
  errorType?: string | null;

  @Property({ type: 'json', nullable: true })
  @Field(() => JSONResolver, { nullable: true, description: 'what completeTask was given' })
  output?: unknown;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'W3C traceparent of the traced request that readied the task (OpenTelemetry on): a worker continues its trace from here' })
  traceparent?: string | null;

  @Property({ type: 'Date', nullable: true })
  readyAt?: Date | null;

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true })
  finishedAt?: Date | null;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Property({ type: 'Date' })
  updatedAt: Date = new Date();

  /** ids of the tasks this one waits for, when it was read through the task loaders (not stored here) */
  dependsOnIds?: string[];
}

@Entity({ tableName: 'task_dependencies' })
export class TaskDependency {
  @PrimaryKey({ type: 'uuid' })
  taskId!: string;

  @PrimaryKey({ type: 'uuid' })
  dependsOnId!: string;
}

@ObjectType({ description: 'completeAndClaimTask\'s answer: the attempt it completed and the one it claimed next', simpleResolvers: true })
export class TaskHandoff {
  @Field(() => Task) completed!: Task;
  @Field(() => Task, { nullable: true, description: 'null when no task of the queues was READY' }) next!: Task | null;
}

@InputType({ description: 'one completion of completeAndClaimTasks: as completeTask(id, attempt, output)' })
export class TaskCompletionInput {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: 'the attempt being completed' }) attempt!: number;
  @Field(() => JSONResolver, { nullable: true, description: 'kept as Task.output (at most 256 KiB as JSON)' }) output?: unknown;
}

@InputType({ description: 'one failure of completeAndClaimTasks: as failTask(id, error, errorType, attempt)' })
export class TaskFailureInput {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: 'the attempt that failed' }) attempt!: number;
  @Field({ description: 'kept as Task.error (the first 10,000 characters)' }) error!: string;
  @Field(() => String, { nullable: true, description: 'kept as Task.errorType; a retry policy\'s nonRetryableErrors name these' }) errorType?: string | null;
}

@ObjectType({ description: 'a completion or failure completeAndClaimTasks did not take, with the error completeTask or failTask would have answered for it' })
export class TaskRefusal {
  /** the database id; the resolver gives the global one */
  taskId!: string;
  @Field(() => Int) attempt!: number;
  @Field({ description: 'CONFLICT (lease lost, or the task is not running), NOT_FOUND, or BAD_USER_INPUT (the output, an empty error, a too long errorType)' }) code!: string;
  @Field() message!: string;
}

@ObjectType({ description: 'completeAndClaimTasks\' answer: the attempts it completed and failed, the reports it refused, and the tasks it claimed next', simpleResolvers: true })
export class TaskBatchHandoff {
  @Field(() => [Task], { description: 'in the order the completions were given, refused ones left out' })
  @MaxItems(MAX_TASK_BATCH)
  completed!: Task[];

  @Field(() => [Task], { description: 'the failures it took, in the order given: READY again (maybe after a backoff) or FAILED' })
  @MaxItems(MAX_TASK_BATCH)
  failed!: Task[];

  @Field(() => [TaskRefusal])
  @MaxItems(2 * MAX_TASK_BATCH)
  refused!: TaskRefusal[];

  @Field(() => [Task], { description: 'at most `claim`, in claim order; fewer (or none) when fewer were READY' })
  @MaxItems(MAX_TASK_BATCH)
  next!: Task[];
}

@ObjectType({ description: 'A RUNNING attempt the server stopped: its workflow was cancelled, or the server ended the attempt (its lease lapsed, or it ran past timeoutSeconds). The worker holding it must stop' })
export class TaskCancellation {
  /** database ids; the resolver gives global ones */
  taskId!: string;
  workflowId!: string;
  @Field(() => Int, { description: 'the attempt that was running' }) attempt!: number;
  @Field({ description: 'CANCELLED (the workflow was cancelled), LOST (the lease lapsed) or TIMED_OUT (the attempt ran past timeoutSeconds)' }) reason!: string;
}
