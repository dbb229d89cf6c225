/**
 * The executable schema: every domain's resolvers, plus `node(id:)` which dispatches a global
 * id to the loader of its type (so it hides exactly what the typed queries hide).
 */
import type { GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { Arg, buildSchema, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Context } from './context.js';
import { AlertEventResolver } from '../alerts/event-resolver.js';
import { auditMutations } from '../audit/recorder.js';
import { AuditResolver } from '../audit/resolver.js';
import { auditEntry } from '../audit/service.js';
import { AlertResolver, AlertRuleResolver } from '../alerts/resolver.js';
import { ContactPointResolver, NotificationResolver } from '../alerts/notifications/resolver.js';
import { InhibitionRuleResolver, MaintenanceWindowResolver, NotificationRouteResolver, SilenceResolver } from '../alerts/routing/resolver.js';
import { HealthResolver } from '../health/resolver.js';
import { MetricResolver } from '../metrics/resolver.js';
import { ReportResolver } from '../reports/resolver.js';
import { DiagnosticsResolver } from '../observability/resolver.js';
import { requireRole, requireViewer, Role } from '../core/viewer.js';
import { ComponentStatusResolver, IncidentResolver, IncidentUpdateResolver } from '../status/resolver.js';
import { callFieldResolversDirectly } from '../graphql/direct-resolvers.js';
import { parseGlobalId } from '../core/ids.js';
import { Node } from '../graphql/node.js';
import { guardResolvers } from '../graphql/execution-limits.js';
import { idempotentMutations } from '../graphql/idempotency.js';
import { listBounds } from '../graphql/query-limits.js';
import { createLogger } from '../core/logger.js';
import { createEventBus, type EventBus } from '../live/bus/bus.js';
import { TaskCancellationResolver, TaskRefusalResolver, TaskResolver } from '../workflows/task-resolver.js';
import { TaskQueueResolver } from '../workflows/queue-resolver.js';
import { ApiTokenResolver } from '../users/api-token-resolver.js';
import { UserResolver } from '../users/resolver.js';
import { WorkflowEventResolver } from '../workflows/event-resolver.js';
import { WorkflowResolver } from '../workflows/resolver.js';
import { TemplateResolver, TemplateVersionResolver, WorkflowTemplateFieldResolver } from '../templates/resolver.js';
import { ScheduleResolver, ScheduleRunResolver, WorkflowScheduleFieldResolver } from '../schedules/resolver.js';

@Resolver()
class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'any object by its global id; null when missing or hidden' })
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Node | null> {
    requireViewer(ctx.viewer);
    const { type, id: key } = parseGlobalId(id);
    switch (type) {
      case 'User':
        return ctx.loaders.userById.load(key);
      case 'Workflow':
        return ctx.loaders.workflowById.load(key);
      case 'Task':
        return ctx.loaders.taskById.load(key);
      case 'AlertRule': {
        const rule = await ctx.loaders.alertRuleById.load(key);
        return rule && !rule.deletedAt ? rule : null;
      }
      case 'Alert':
        return ctx.loaders.alertById.load(key);
      case 'ContactPoint': {
        requireRole(ctx.viewer, Role.ADMIN);
        const point = await ctx.loaders.contactPointById.load(key);
        return point && !point.deletedAt ? point : null;
      }
      case 'NotificationRoute':
        return ctx.loaders.notificationRouteById.load(key);
      case 'Silence':
        return ctx.loaders.silenceById.load(key);
      case 'MaintenanceWindow':
        return ctx.loaders.maintenanceWindowById.load(key);
      case 'InhibitionRule':
        return ctx.loaders.inhibitionRuleById.load(key);
      case 'AuditEntry':
        return auditEntry(ctx, key);
      case 'Incident':
        return ctx.loaders.incidentById.load(key);
      case 'WorkflowTemplate':
        return ctx.loaders.templateById.load(key);
      case 'Schedule':
        return ctx.loaders.scheduleById.load(key);
      default:
        return null;
    }
  }
}

export const RESOLVERS = [
  NodeResolver, UserResolver, WorkflowResolver, WorkflowEventResolver, TaskResolver, TaskCancellationResolver, TaskRefusalResolver, TaskQueueResolver, HealthResolver,
  MetricResolver, AlertRuleResolver, AlertResolver, AlertEventResolver, ContactPointResolver, NotificationResolver, NotificationRouteResolver,
  SilenceResolver, MaintenanceWindowResolver, InhibitionRuleResolver, DiagnosticsResolver, ApiTokenResolver, AuditResolver,
  IncidentResolver, IncidentUpdateResolver, ComponentStatusResolver, ReportResolver,
  TemplateResolver, TemplateVersionResolver, WorkflowTemplateFieldResolver, ScheduleResolver, ScheduleRunResolver, WorkflowScheduleFieldResolver,
] as const;

export async function buildAppSchema(bus?: EventBus): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    // type-graphql insists on a bus once there are subscriptions, even to print the schema.
    pubSub: bus ?? createEventBus({ logger: createLogger('silent') }),
    validate: false,
    // API.md names the scalar DateTime (ISO 8601 strings).
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    emitSchemaFile: false,
  });
  // No global middlewares or auth checker above: what callFieldResolversDirectly requires.
  callFieldResolversDirectly(schema);
  // A list field without a declared bound would make the cost estimate a guess: refuse to start.
  listBounds(schema);
  // Outermost: a replayed create answers without running (nor auditing) anything.
  return idempotentMutations(auditMutations(guardResolvers(schema)), {
    createWorkflow: (ctx: Context, id: string) => ctx.loaders.workflowById.load(id),
    createTemplate: (ctx: Context, id: string) => ctx.loaders.templateById.load(id),
    runTemplate: (ctx: Context, id: string) => ctx.loaders.workflowById.load(id),
    triggerSchedule: (ctx: Context, id: string) => ctx.loaders.workflowById.load(id),
  });
}
