/** GraphQL surface of tasks and the worker mutations. */
import { Arg, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { JSONResolver } from 'graphql-scalars';
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { notFound } from '../core/errors.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { MaxItems } from '../graphql/query-limits.js';
import { WORKFLOW_SCOPED_CACHE } from './cache.js';
import { Workflow } from './entity.js';
import { LIMITS } from './validation.js';
import { MAX_TASK_BATCH, Task, TaskBatchHandoff, TaskCancellation, TaskCompletionInput, TaskFailureInput, TaskHandoff, TaskRefusal, TaskRun } from './task-entity.js';
import { followCancelledTasks } from './cancellations.js';
import { RUNS_SHOWN } from './task-loaders.js';
import * as tasks from './task-service.js';

@Resolver(() => Task)
export class TaskResolver {
  @FieldResolver(() => ID)
  id(@Root() task: Task): string {
    return toGlobalId('Task', task.id);
  }

  @FieldResolver(() => Workflow)
  async workflow(@Root() task: Task, @Ctx() ctx: Context): Promise<Workflow> {
    const workflow = await ctx.loaders.workflowById.load(task.workflowId);
    if (!workflow) throw notFound('Workflow');
    return workflow;
  }

  @FieldResolver(() => [Task])
  // Siblings only: every other task of the workflow at most.
  @MaxItems(LIMITS.tasksPerWorkflow - 1)
  dependsOn(@Root() task: Task, @Ctx() ctx: Context): Task[] | Promise<Task[]> {
    return ctx.loaders.dependenciesOf(task);
  }

  @FieldResolver(() => [TaskRun], { description: 'one entry per attempt, oldest first (the newest 100)' })
  @MaxItems(RUNS_SHOWN)
  runs(@Root() task: Task, @Ctx() ctx: Context): Promise<TaskRun[]> {
    return ctx.loaders.runsByTask.load(task.id);
  }

  @FieldResolver(() => Int, { nullable: true, description: 'from start to finish of the last attempt' })
  durationMs(@Root() task: Task): number | null {
    return task.startedAt && task.finishedAt ? task.finishedAt.getTime() - task.startedAt.getTime() : null;
  }

  @Extensions(WORKFLOW_SCOPED_CACHE)
  @Query(() => Task, { nullable: true, description: 'null when it does not exist or the viewer may not see it' })
  task(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Task | null> {
    requireViewer(ctx.viewer);
    return ctx.loaders.taskById.load(idOf('Task', id));
  }

  @Mutation(() => Task, { nullable: true, description: 'a worker takes the next READY task (highest priority, then oldest) of `queue` and `queues` (any queue when neither is given) with a lease of its heartbeatTimeoutSeconds, or null when there is none' })
  claimTask(
    @Arg('queue', () => String, { nullable: true }) queue: string | null,
    @Arg('queues', () => [String], { nullable: true }) queues: string[] | null,
    @Arg('workerId', () => String, { nullable: true }) workerId: string | null,
    @Ctx() ctx: Context,
  ): Promise<Task | null> {
    return tasks.claimTask(ctx, { queue, queues, workerId });
  }

  @Mutation(() => [Task], { description: `claimTask for up to \`limit\` (1–${MAX_TASK_BATCH}) tasks in one request, in claim order: what a worker with room for several asks; empty when none is READY` })
  @MaxItems(MAX_TASK_BATCH)
  claimTasks(
    @Arg('limit', () => Int) limit: number,
    @Arg('queues', () => [String], { nullable: true }) queues: string[] | null,
    @Arg('workerId', () => String, { nullable: true }) workerId: string | null,
    @Ctx() ctx: Context,
  ): Promise<Task[]> {
    return tasks.claimTasks(ctx, { queues, workerId }, limit);
  }

  @Mutation(() => Task, { description: 'extends the lease of the running attempt and records details; the task says CANCELLED when the worker must stop; another attempt is CONFLICT "lease lost"' })
  heartbeatTask(
    @Arg('id', () => ID) id: string,
    @Arg('attempt', () => Int) attempt: number,
    @Arg('details', () => JSONResolver, { nullable: true }) details: unknown,
    @Ctx() ctx: Context,
  ): Promise<Task> {
    return tasks.heartbeatTask(ctx, idOf('Task', id), attempt, details);
  }

  @Mutation(() => Task, { description: 'output is kept as Task.output (at most 256 KiB as JSON); with attempt: CONFLICT "lease lost" unless that attempt is still running' })
  completeTask(
    @Arg('id', () => ID) id: string,
    @Arg('attempt', () => Int, { nullable: true }) attempt: number | null,
    @Arg('output', () => JSONResolver, { nullable: true }) output: unknown,
    @Ctx() ctx: Context,
  ): Promise<Task> {
    return tasks.completeTask(ctx, idOf('Task', id), { attempt, output });
  }

  @Mutation(() => TaskHandoff, { description: 'completeTask then claimTask(queues:, workerId:) in one transaction: a worker\'s one round trip per task; CONFLICT "lease lost" (and no claim) unless that attempt is still running' })
  completeAndClaimTask(
    @Arg('id', () => ID) id: string,
    @Arg('attempt', () => Int) attempt: number,
    @Arg('output', () => JSONResolver, { nullable: true }) output: unknown,
    @Arg('queues', () => [String], { nullable: true }) queues: string[] | null,
    @Arg('workerId', () => String, { nullable: true }) workerId: string | null,
    @Ctx() ctx: Context,
  ): Promise<TaskHandoff> {
    return tasks.completeAndClaimTask(ctx, idOf('Task', id), { attempt, output }, { queues, workerId });
  }

  @Mutation(() => TaskBatchHandoff, {
    description: `completes several attempts and fails others (at most ${MAX_TASK_BATCH} of each), and claims up to \`claim\` (0–${MAX_TASK_BATCH}) tasks of \`queues\`, in one transaction: a worker holding several tasks reports all that finished since its last request. Each report is taken or refused on its own (\`refused\`: what completeTask or failTask would answer for it)`,
  })
  completeAndClaimTasks(
    @Arg('completions', () => [TaskCompletionInput]) completions: TaskCompletionInput[],
    @Arg('claim', () => Int) claim: number,
    @Arg('queues', () => [String], { nullable: true }) queues: string[] | null,
    @Arg('workerId', () => String, { nullable: true }) workerId: string | null,
    @Arg('failures', () => [TaskFailureInput], { nullable: true }) failures: TaskFailureInput[] | null,
    @Ctx() ctx: Context,
  ): Promise<TaskBatchHandoff> {
    const done = completions.map((c) => ({ id: idOf('Task', c.id), attempt: c.attempt, output: c.output }));
    const failed = (failures ?? []).map((f) => ({ id: idOf('Task', f.id), attempt: f.attempt, error: f.error, errorType: f.errorType }));
    return tasks.completeAndClaimTasks(ctx, done, claim, { queues, workerId }, failed);
  }

  @Mutation(() => Task, { description: 'retried while attempts < maxAttempts; with attempt: CONFLICT "lease lost" unless that attempt is still running' })
  failTask(
    @Arg('id', () => ID) id: string,
    @Arg('error') error: string,
    @Arg('errorType', () => String, { nullable: true }) errorType: string | null,
    @Arg('attempt', () => Int, { nullable: true }) attempt: number | null,
    @Ctx() ctx: Context,
  ): Promise<Task> {
    return tasks.failTask(ctx, idOf('Task', id), error, { errorType, attempt });
  }

  @Mutation(() => Task)
  retryTask(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Task> {
    return tasks.retryTask(ctx, idOf('Task', id));
  }
}

@Resolver(() => TaskRefusal)
export class TaskRefusalResolver {
  @FieldResolver(() => ID)
  taskId(@Root() refusal: TaskRefusal): string {
    return toGlobalId('Task', refusal.taskId);
  }
}

@Resolver(() => TaskCancellation)
export class TaskCancellationResolver {
  @Subscription(() => TaskCancellation, {
    description: 'each RUNNING attempt held by `workerId` (as claimTask was told) that the server stops from now on — its workflow cancelled, its lease lapsed (LOST) or its timeoutSeconds passed (TIMED_OUT) — of the workflows the viewer may see: the worker stops it at once rather than at its next heartbeat',
    subscribe: ({ args, context }) => followCancelledTasks(context as Context, args.workerId),
  })
  taskCancelled(@Root() cancellation: TaskCancellation, @Arg('workerId', () => String) _workerId: string): TaskCancellation {
    return cancellation;
  }

  @FieldResolver(() => ID)
  taskId(@Root() cancellation: TaskCancellation): string {
    return toGlobalId('Task', cancellation.taskId);
  }

  @FieldResolver(() => ID)
  workflowId(@Root() cancellation: TaskCancellation): string {
    return toGlobalId('Workflow', cancellation.workflowId);
  }
}
