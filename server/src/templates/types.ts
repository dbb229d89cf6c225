/** GraphQL types of workflow templates: a named task graph kept as immutable versions. */
import { ArgsType, Field, InputType, Int, ObjectType } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { Node, PageInfo } from '../graphql/node.js';
import { MaxItems } from '../graphql/query-limits.js';
import { TaskInput } from '../workflows/inputs.js';
import { LIMITS } from '../workflows/validation.js';
import type { ValidTask } from '../workflows/validation.js';

/** Versions `WorkflowTemplate.versions` lists at most (the newest); older ones still run by number. */
export const MAX_LISTED_VERSIONS = 100;

@ObjectType({ description: 'A task of a template version, as validated when the version was made', simpleResolvers: true })
export class TaskTemplate {
  @Field() name!: string;
  @Field(() => [String], { description: 'names of sibling tasks' })
  @MaxItems(LIMITS.tasksPerWorkflow)
  dependsOn!: string[];
  @Field() queue!: string;
  @Field(() => Int) maxAttempts!: number;
  @Field(() => Int) priority!: number;
  @Field(() => Int, { nullable: true }) timeoutSeconds!: number | null;
  @Field(() => Int) heartbeatTimeoutSeconds!: number;
}

@ObjectType({ description: 'One immutable version of a template: what a run of it creates', simpleResolvers: true })
export class TemplateVersion {
  templateId!: string;
  @Field(() => Int) version!: number;
  @Field({ description: 'the name runs get unless runTemplate names them' }) name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  /** ValidTask is a superset of TaskTemplate (retry policy included), kept whole for runs */
  @Field(() => [TaskTemplate])
  @MaxItems(LIMITS.tasksPerWorkflow)
  tasks!: ValidTask[];
  @Field() createdAt!: Date;
  /** resolved by the resolver; null once the account is deleted */
  createdById!: string | null;
}

@ObjectType({ implements: Node, description: 'A reusable workflow definition; each update adds a new immutable version' })
export class WorkflowTemplate {
  id!: string;
  ownerId!: string;
  @Field({ description: 'the name of the latest version' }) name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => Int) latestVersion!: number;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@InputType({ description: 'A template version: validated exactly as createWorkflow validates a workflow' })
export class TemplateInput {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [TaskInput]) tasks!: TaskInput[];
  @Field(() => String, { nullable: true, description: 'createTemplate only, as the Idempotency-Key header' })
  idempotencyKey?: string | null;
}

@ArgsType()
export class TemplatesArgs {
  @Field(() => Int, { nullable: true, description: 'page size, 1 to 100; defaults to 20' }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
}

@ObjectType()
export class WorkflowTemplateEdge {
  @Field() cursor!: string;
  @Field(() => WorkflowTemplate) node!: WorkflowTemplate;
}

@ObjectType()
export class WorkflowTemplateConnection {
  @Field(() => [WorkflowTemplateEdge])
  @MaxItems(MAX_PAGE_SIZE)
  edges!: WorkflowTemplateEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** null only when the query does not select it (then it is not counted) */
  @Field(() => Int) totalCount!: number | null;
}
