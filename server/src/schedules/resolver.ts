/** GraphQL surface of schedules: thin — parse, call the service. */
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { requireViewer } from '../core/viewer.js';
import { pageSize } from '../db/pagination.js';
import { MaxItems } from '../graphql/query-limits.js';
import { WorkflowTemplate } from '../templates/types.js';
import { User } from '../users/entity.js';
import { Workflow } from '../workflows/entity.js';
import { WorkflowConnection, WorkflowsArgs } from '../workflows/inputs.js';
import { listWorkflows } from '../workflows/service.js';
import { upcomingSlots } from './cron.js';
import * as schedules from './service.js';
import {
  DEFAULT_HISTORY, DEFAULT_UPCOMING, MAX_BACKFILL_RUNS, MAX_HISTORY, MAX_UPCOMING, Schedule, ScheduleConnection, ScheduleInput, ScheduleRun, SchedulesArgs,
} from './types.js';

@Resolver(() => Schedule)
export class ScheduleResolver {
  @FieldResolver(() => ID)
  id(@Root() schedule: Schedule): string {
    return toGlobalId('Schedule', schedule.id);
  }

  @FieldResolver(() => User)
  async owner(@Root() schedule: Schedule, @Ctx() ctx: Context): Promise<User> {
    return (await ctx.loaders.userById.load(schedule.ownerId))!;
  }

  @FieldResolver(() => WorkflowTemplate)
  async template(@Root() schedule: Schedule, @Ctx() ctx: Context): Promise<WorkflowTemplate> {
    // The template is the owner's (or an admin chose it): whoever sees the schedule sees it, but an admin's schedule may name a member's.
    return (await ctx.loaders.templateById.load(schedule.templateId))!;
  }

  @FieldResolver(() => [Date], { description: `the next slots from now, paused or not; count 1 to ${MAX_UPCOMING}, default ${DEFAULT_UPCOMING}` })
  @MaxItems(MAX_UPCOMING)
  upcoming(@Root() schedule: Schedule, @Ctx() ctx: Context, @Arg('count', () => Int, { nullable: true }) count: number | null): Date[] {
    const wanted = count ?? DEFAULT_UPCOMING;
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_UPCOMING) throw badInput(`count must be 1 to ${MAX_UPCOMING}`, { field: 'count' });
    return upcomingSlots(schedules.specOf(schedule, ctx), new Date(), wanted);
  }

  @FieldResolver(() => [ScheduleRun], { description: `its newest slots, newest first, skipped and failed ones too; first 1 to ${MAX_HISTORY}, default ${DEFAULT_HISTORY}` })
  @MaxItems(MAX_HISTORY)
  history(@Root() schedule: Schedule, @Ctx() ctx: Context, @Arg('first', () => Int, { nullable: true }) first: number | null): Promise<ScheduleRun[]> {
    return ctx.loaders.runsBySchedule.load({ id: schedule.id, first: pageSize(first, DEFAULT_HISTORY, MAX_HISTORY) });
  }

  @FieldResolver(() => WorkflowConnection, { description: 'the workflows it ran, newest first' })
  runs(@Root() schedule: Schedule, @Ctx() ctx: Context, @Args() args: WorkflowsArgs): Promise<WorkflowConnection> {
    return listWorkflows(ctx, args, { ...args, scheduleId: schedule.id });
  }

  @Query(() => ScheduleConnection, { description: 'newest first; a MEMBER sees its own' })
  schedules(@Args() args: SchedulesArgs, @Ctx() ctx: Context): Promise<ScheduleConnection> {
    return schedules.listSchedules(ctx, args);
  }

  @Query(() => Schedule, { nullable: true, description: 'null when it does not exist or the viewer may not see it' })
  schedule(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Schedule | null> {
    requireViewer(ctx.viewer);
    return ctx.loaders.scheduleById.load(idOf('Schedule', id));
  }

  @Mutation(() => Schedule)
  createSchedule(@Arg('input') input: ScheduleInput, @Ctx() ctx: Context): Promise<Schedule> {
    return schedules.createSchedule(ctx, input);
  }

  @Mutation(() => Schedule, { description: 'replaces the settings; the next slot is counted from now' })
  updateSchedule(@Arg('id', () => ID) id: string, @Arg('input') input: ScheduleInput, @Ctx() ctx: Context): Promise<Schedule> {
    return schedules.updateSchedule(ctx, idOf('Schedule', id), input);
  }

  @Mutation(() => Schedule)
  pauseSchedule(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Schedule> {
    return schedules.setPaused(ctx, idOf('Schedule', id), true);
  }

  @Mutation(() => Schedule, { description: 'the next slot is counted from now: slots missed while paused do not run (backfill them)' })
  resumeSchedule(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Schedule> {
    return schedules.setPaused(ctx, idOf('Schedule', id), false);
  }

  @Mutation(() => ID, { description: 'returns the id of the deleted schedule; its runs stay' })
  async deleteSchedule(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await schedules.deleteSchedule(ctx, idOf('Schedule', id));
    return id;
  }

  @Mutation(() => Workflow, { description: 'runs it now (paused or not) after its overlapPolicy; SKIP with a run unfinished is CONFLICT' })
  triggerSchedule(
    @Arg('id', () => ID) id: string,
    @Arg('idempotencyKey', () => String, { nullable: true, description: 'as the Idempotency-Key header' }) _idempotencyKey: string | null,
    @Ctx() ctx: Context,
  ): Promise<Workflow> {
    return schedules.triggerSchedule(ctx, idOf('Schedule', id));
  }

  @Mutation(() => Int, { description: `one run per slot in [from, to] that has not run, at most ${MAX_BACKFILL_RUNS}; to may not be in the future; returns how many it created` })
  backfillSchedule(@Arg('id', () => ID) id: string, @Arg('from') from: Date, @Arg('to') to: Date, @Ctx() ctx: Context): Promise<number> {
    return schedules.backfillSchedule(ctx, idOf('Schedule', id), from, to);
  }
}

@Resolver(() => ScheduleRun)
export class ScheduleRunResolver {
  @FieldResolver(() => Workflow, { nullable: true, description: 'the workflow the slot ran; null when it made none, or it was deleted' })
  workflow(@Root() run: ScheduleRun, @Ctx() ctx: Context): Promise<Workflow | null> | null {
    return run.workflowId ? ctx.loaders.workflowById.load(run.workflowId) : null;
  }
}

/** `Workflow.schedule`: here, so the workflows room does not import schedules. */
@Resolver(() => Workflow)
export class WorkflowScheduleFieldResolver {
  @FieldResolver(() => Schedule, { nullable: true, description: 'the schedule that ran it; null when none, deleted or hidden' })
  schedule(@Root() workflow: Workflow, @Ctx() ctx: Context): Promise<Schedule | null> | null {
    return workflow.scheduleId ? ctx.loaders.scheduleById.load(workflow.scheduleId) : null;
  }
}
