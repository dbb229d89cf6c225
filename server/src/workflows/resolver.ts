/** GraphQL surface of workflows: thin — parse, check access in the service, return. */
import { Arg, Args, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { MaxItems } from '../graphql/query-limits.js';
import { WORKFLOW_SCOPED_CACHE } from './cache.js';
import { Task, TaskStatus } from './task-entity.js';
import { User } from '../users/entity.js';
import { TaskCounts, Workflow } from './entity.js';
import { BulkAction, BulkResult, CreateWorkflowInput, WorkflowConnection, WorkflowFilter, WorkflowsArgs } from './inputs.js';
import { bulkWorkflows } from './bulk.js';
import * as workflows from './service.js';
import { LIMITS } from './validation.js';

@Resolver(() => Workflow)
export class WorkflowResolver {
  @FieldResolver(() => ID)
  id(@Root() workflow: Workflow): string {
    return toGlobalId('Workflow', workflow.id);
  }

  @FieldResolver(() => User)
  async owner(@Root() workflow: Workflow, @Ctx() ctx: Context): Promise<User> {
    return (await ctx.loaders.userById.load(workflow.ownerId))!;
  }

  @FieldResolver(() => [Task])
  @MaxItems(LIMITS.tasksPerWorkflow)
  async tasks(
    @Root() workflow: Workflow,
    @Ctx() ctx: Context,
    @Arg('status', () => [TaskStatus], { nullable: true }) status?: TaskStatus[] | null,
  ): Promise<Task[]> {
    const tasks = await ctx.loaders.tasksByWorkflow.load(workflow.id);
    return status?.length ? tasks.filter((t) => status.includes(t.status)) : tasks;
  }

  @FieldResolver(() => TaskCounts)
  taskCounts(@Root() workflow: Workflow, @Ctx() ctx: Context): Promise<TaskCounts> {
    return ctx.loaders.taskCountsByWorkflow.load(workflow.id);
  }

  @Query(() => WorkflowConnection)
  @Extensions(WORKFLOW_SCOPED_CACHE)
  workflows(@Args() args: WorkflowsArgs, @Ctx() ctx: Context): Promise<WorkflowConnection> {
    return workflows.listWorkflows(ctx, args);
  }

  @Extensions(WORKFLOW_SCOPED_CACHE)
  @Query(() => Workflow, { nullable: true, description: 'null when it does not exist or the viewer may not see it' })
  workflow(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Workflow | null> {
    requireViewer(ctx.viewer);
    return ctx.loaders.workflowById.load(idOf('Workflow', id));
  }

  @Mutation(() => Workflow)
  createWorkflow(@Arg('input') input: CreateWorkflowInput, @Ctx() ctx: Context): Promise<Workflow> {
    return workflows.createWorkflow(ctx, input);
  }

  @Mutation(() => Workflow, { description: 'DRAFT → PENDING now; with `at` (within 366 days) it stays DRAFT with scheduledFor = at until then' })
  startWorkflow(
    @Arg('id', () => ID) id: string,
    @Arg('at', () => Date, { nullable: true, description: 'a delayed start: when to start it' }) at: Date | null,
    @Ctx() ctx: Context,
  ): Promise<Workflow> {
    return workflows.startWorkflow(ctx, idOf('Workflow', id), at);
  }

  @Mutation(() => Workflow)
  cancelWorkflow(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Workflow> {
    return workflows.cancelWorkflow(ctx, idOf('Workflow', id));
  }

  @Mutation(() => BulkResult, { description: 'cancel, retry or delete every workflow the filter matches that the viewer may change; dryRun only counts; at most 1,000 a call' })
  bulkWorkflows(
    @Arg('filter', () => WorkflowFilter) filter: WorkflowFilter,
    @Arg('action', () => BulkAction) action: BulkAction,
    @Arg('dryRun', () => Boolean, { nullable: true, description: 'defaults to false' }) dryRun: boolean | null,
    @Arg('limit', () => Int, { nullable: true, description: 'change at most this many this call (oldest first), 1 to 1,000; defaults to 1,000' }) limit: number | null,
    @Ctx() ctx: Context,
  ): Promise<BulkResult> {
    return bulkWorkflows(ctx, filter, action, dryRun ?? false, limit);
  }

  @Mutation(() => ID, { description: 'returns the id of the deleted workflow' })
  async deleteWorkflow(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await workflows.deleteWorkflow(ctx, idOf('Workflow', id));
    return id;
  }
}
