/** GraphQL inputs and pages for workflows. */
import { ArgsType, Field, InputType, Int, ObjectType } from 'type-graphql';
import { PageInfo } from '../platform/node.js';
import { Workflow, WorkflowStatus } from './entity.js';

@InputType({ description: 'A task of a new workflow' })
export class TaskInput {
  @Field() name!: string;

  @Field(() => [String], { nullable: true, description: 'names of sibling tasks in the same input' })
  dependsOn?: string[] | null;

  @Field(() => String, { nullable: true, description: 'defaults to "default"' })
  queue?: string | null;

  @Field(() => Int, { nullable: true, description: 'defaults to 1' })
  maxAttempts?: number | null;
}

@InputType()
export class CreateWorkflowInput {
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [TaskInput], { nullable: true }) tasks?: TaskInput[] | null;
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
  @Field(() => [WorkflowEdge]) edges!: WorkflowEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}
