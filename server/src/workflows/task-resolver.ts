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
import { Task, TaskCancellation, TaskHandoff, TaskRun } from './task-entity.js';
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

@Resolver(() => TaskCancellation)
export class TaskCancellationResolver {
  @Subscription(() => TaskCancellation, {
    description: 'each RUNNING attempt held by `workerId` (as claimTask was told) that is cancelled from now on, of the workflows the viewer may see: the worker stops it at once rather than at its next heartbeat',
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
