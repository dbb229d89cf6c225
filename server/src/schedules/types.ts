/** GraphQL types of schedules: a cron expression in a time zone that runs a template version. */
import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { Node, PageInfo } from '../graphql/node.js';
import { MaxItems } from '../graphql/query-limits.js';

export enum OverlapPolicy {
  /** a slot whose previous run is still unfinished does not run */
  SKIP = 'SKIP',
  /** every slot runs, however many runs are unfinished */
  ALLOW = 'ALLOW',
  /** unfinished runs are cancelled, then the slot runs */
  CANCEL_PREVIOUS = 'CANCEL_PREVIOUS',
}
registerEnumType(OverlapPolicy, { name: 'OverlapPolicy', description: 'What a slot does while an earlier run of its schedule is unfinished' });

export enum ScheduleRunOutcome {
  /** the slot's workflow was created and started */
  STARTED = 'STARTED',
  /** overlapPolicy SKIP found a run unfinished */
  SKIPPED = 'SKIPPED',
  /** the run could not be made (its template version no longer validates, say): `error` says why */
  FAILED = 'FAILED',
}
registerEnumType(ScheduleRunOutcome, { name: 'ScheduleRunOutcome' });

/** Slots `history` lists at most, and by default. */
export const MAX_HISTORY = 100;
export const DEFAULT_HISTORY = 20;

/** Slots `upcoming` previews at most, and by default. */
export const MAX_UPCOMING = 100;
export const DEFAULT_UPCOMING = 5;
/** Runs one backfillSchedule call creates at most: one transaction, each run up to 1,000 tasks. */
export const MAX_BACKFILL_RUNS = 100;
/** catchupWindowSeconds: default one hour, at most a week. */
export const DEFAULT_CATCHUP_WINDOW_SECONDS = 3600;
export const MAX_CATCHUP_WINDOW_SECONDS = 7 * 24 * 3600;

@ObjectType({ implements: Node, description: 'Runs a template version at every slot of a cron expression in a time zone' })
export class Schedule {
  id!: string;
  ownerId!: string;
  templateId!: string;
  @Field(() => Int, { nullable: true, description: 'the version each run uses; null: the latest at the time of the run' })
  templateVersion!: number | null;
  @Field() cron!: string;
  @Field({ description: 'IANA time zone the expression is read in' }) timezone!: string;
  @Field(() => OverlapPolicy) overlapPolicy!: OverlapPolicy;
  @Field(() => Int, { description: 'a slot missed (every replica down) runs on recovery only within this many seconds of its time' })
  catchupWindowSeconds!: number;
  @Field() paused!: boolean;
  @Field(() => Date, { nullable: true, description: 'the next slot; null while paused' }) nextRunAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'the newest slot that ran (or was skipped)' }) lastRunAt!: Date | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@ObjectType({ description: 'One slot of a schedule (fired or backfilled; triggerSchedule runs are not slots): what it did, and the workflow it ran', simpleResolvers: true })
export class ScheduleRun {
  scheduleId!: string;
  @Field({ description: 'the slot' }) scheduledFor!: Date;
  @Field(() => ScheduleRunOutcome) outcome!: ScheduleRunOutcome;
  @Field(() => String, { nullable: true, description: 'why a FAILED slot did not run' }) error!: string | null;
  /** resolved by the resolver (null once deleted, or when the slot made none) */
  workflowId!: string | null;
  @Field({ description: 'when the slot was fired' }) createdAt!: Date;
}

@InputType({ description: 'timezone defaults to UTC, overlapPolicy to SKIP, catchupWindowSeconds to 3600' })
export class ScheduleInput {
  @Field(() => ID) templateId!: string;
  @Field(() => Int, { nullable: true, description: 'pin every run to this version; unset: the latest at each run' })
  templateVersion?: number | null;
  @Field({ description: 'five fields: minute hour day-of-month month day-of-week (or @hourly, @daily…)' }) cron!: string;
  @Field(() => String, { nullable: true }) timezone?: string | null;
  @Field(() => OverlapPolicy, { nullable: true }) overlapPolicy?: OverlapPolicy | null;
  @Field(() => Int, { nullable: true, description: '0 to 604800' }) catchupWindowSeconds?: number | null;
  @Field({ nullable: true, description: 'create it paused' }) paused?: boolean;
}

@ArgsType()
export class SchedulesArgs {
  @Field(() => Int, { nullable: true, description: 'page size, 1 to 100; defaults to 20' }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
}

@ObjectType()
export class ScheduleEdge {
  @Field() cursor!: string;
  @Field(() => Schedule) node!: Schedule;
}

@ObjectType()
export class ScheduleConnection {
  @Field(() => [ScheduleEdge])
  @MaxItems(MAX_PAGE_SIZE)
  edges!: ScheduleEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** null only when the query does not select it (then it is not counted) */
  @Field(() => Int) totalCount!: number | null;
}
