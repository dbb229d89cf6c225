/** GraphQL surface of templates: thin — parse, call the service. */
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { requireViewer } from '../core/viewer.js';
import { pageSize } from '../db/pagination.js';
import { MaxItems } from '../graphql/query-limits.js';
import { User } from '../users/entity.js';
import { Workflow } from '../workflows/entity.js';
import * as templates from './service.js';
import { MAX_LISTED_VERSIONS, TemplateInput, TemplatesArgs, TemplateVersion, WorkflowTemplate, WorkflowTemplateConnection } from './types.js';

@Resolver(() => WorkflowTemplate)
export class TemplateResolver {
  @FieldResolver(() => ID)
  id(@Root() template: WorkflowTemplate): string {
    return toGlobalId('WorkflowTemplate', template.id);
  }

  @FieldResolver(() => User)
  async owner(@Root() template: WorkflowTemplate, @Ctx() ctx: Context): Promise<User> {
    return (await ctx.loaders.userById.load(template.ownerId))!;
  }

  @FieldResolver(() => [TemplateVersion], { description: `newest first: the newest \`first\`, 1 to ${MAX_LISTED_VERSIONS} (default ${MAX_LISTED_VERSIONS}); older ones still run by number` })
  @MaxItems(MAX_LISTED_VERSIONS)
  versions(
    @Root() template: WorkflowTemplate,
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
  ): Promise<TemplateVersion[]> {
    return ctx.loaders.versionsByTemplate.load({ id: template.id, first: pageSize(first, MAX_LISTED_VERSIONS, MAX_LISTED_VERSIONS) });
  }

  @Query(() => WorkflowTemplateConnection, { description: 'newest first; a MEMBER sees its own' })
  templates(@Args() args: TemplatesArgs, @Ctx() ctx: Context): Promise<WorkflowTemplateConnection> {
    return templates.listTemplates(ctx, args);
  }

  @Query(() => WorkflowTemplate, { nullable: true, description: 'null when it does not exist or the viewer may not see it' })
  template(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<WorkflowTemplate | null> {
    requireViewer(ctx.viewer);
    return ctx.loaders.templateById.load(idOf('WorkflowTemplate', id));
  }

  @Mutation(() => WorkflowTemplate, { description: 'version 1; validated as createWorkflow is' })
  createTemplate(@Arg('input') input: TemplateInput, @Ctx() ctx: Context): Promise<WorkflowTemplate> {
    return templates.createTemplate(ctx, input);
  }

  @Mutation(() => WorkflowTemplate, { description: 'adds the next immutable version; earlier versions stay runnable' })
  updateTemplate(@Arg('id', () => ID) id: string, @Arg('input') input: TemplateInput, @Ctx() ctx: Context): Promise<WorkflowTemplate> {
    return templates.updateTemplate(ctx, idOf('WorkflowTemplate', id), input);
  }

  @Mutation(() => ID, { description: 'returns the id of the deleted template; workflows run from it stay' })
  async deleteTemplate(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await templates.deleteTemplate(ctx, idOf('WorkflowTemplate', id));
    return id;
  }

  @Mutation(() => Workflow, { description: 'creates and starts a workflow from a version (default: the latest), owned by the caller' })
  runTemplate(
    @Arg('id', () => ID) id: string,
    @Arg('version', () => Int, { nullable: true }) version: number | null,
    @Arg('name', () => String, { nullable: true, description: "defaults to the version's name" }) name: string | null,
    @Arg('idempotencyKey', () => String, { nullable: true, description: 'as the Idempotency-Key header' }) _idempotencyKey: string | null,
    @Ctx() ctx: Context,
  ): Promise<Workflow> {
    return templates.runTemplate(ctx, idOf('WorkflowTemplate', id), version, name);
  }
}

@Resolver(() => TemplateVersion)
export class TemplateVersionResolver {
  @FieldResolver(() => User, { nullable: true, description: 'null once the account is deleted' })
  createdBy(@Root() version: TemplateVersion, @Ctx() ctx: Context): Promise<User | null> | null {
    return version.createdById ? ctx.loaders.userById.load(version.createdById) : null;
  }
}

/** `Workflow.template`: here, so the workflows room does not import templates. */
@Resolver(() => Workflow)
export class WorkflowTemplateFieldResolver {
  @FieldResolver(() => WorkflowTemplate, { nullable: true, description: 'the template it was run from; null when none, deleted or hidden' })
  template(@Root() workflow: Workflow, @Ctx() ctx: Context): Promise<WorkflowTemplate | null> | null {
    return workflow.templateId ? ctx.loaders.templateById.load(workflow.templateId) : null;
  }
}
