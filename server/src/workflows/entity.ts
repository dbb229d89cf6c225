/** A workflow: a named set of tasks owned by one user, moving through its lifecycle. */
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/node.js';

export enum WorkflowStatus {
  DRAFT = 'DRAFT',
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(WorkflowStatus, { name: 'WorkflowStatus' });

export const FINISHED_WORKFLOW_STATUSES = [WorkflowStatus.SUCCEEDED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED];

@Entity({ tableName: 'workflows' })
@ObjectType({ implements: Node, simpleResolvers: true })
export class Workflow {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ type: 'uuid', index: true })
  ownerId!: string;

  @Property({ type: 'text' })
  @Field()
  name!: string;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true })
  description?: string | null;

  @Property({ type: 'text' })
  @Field(() => WorkflowStatus)
  status!: WorkflowStatus;

  @Property({ type: 'Date' })
  @Field()
  createdAt: Date = new Date();

  @Property({ type: 'Date' })
  @Field()
  updatedAt: Date = new Date();

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true })
  startedAt?: Date | null;

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true })
  finishedAt?: Date | null;

  /** the template it was run from (templates/), resolved by `Workflow.template` */
  @Property({ type: 'uuid', nullable: true })
  templateId?: string | null;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int, { nullable: true, description: 'the version of its template it was made from' })
  templateVersion?: number | null;

  /** the schedule that ran it (schedules/), resolved by `Workflow.schedule` */
  @Property({ type: 'uuid', nullable: true })
  scheduleId?: string | null;

  @Property({ type: 'Date', nullable: true })
  @Field(() => Date, { nullable: true, description: "the schedule's slot it ran for, or when a delayed start (startWorkflow(id, at)) starts it" })
  scheduledFor?: Date | null;
}

@ObjectType({ description: 'How many of a workflow\'s tasks are in each status', simpleResolvers: true })
export class TaskCounts {
  @Field(() => Int) pending = 0;
  @Field(() => Int) ready = 0;
  @Field(() => Int) running = 0;
  @Field(() => Int) succeeded = 0;
  @Field(() => Int) failed = 0;
  @Field(() => Int) cancelled = 0;
  @Field(() => Int) total = 0;
}
