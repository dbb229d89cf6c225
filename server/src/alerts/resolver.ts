/** GraphQL surface of alert rules and alerts: thin — parse, call the service. */
import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { MaxItems } from '../graphql/query-limits.js';
import { MAX_ALERT_NOTIFICATIONS } from './loaders.js';
import { Notification } from './notifications/types.js';
import { MAX_ROUTES } from './routing/routes.js';
import { MAX_SILENCES } from './routing/silences.js';
import { NotificationRoute, Silence } from './routing/types.js';
import { User } from '../users/entity.js';
import * as rules from './rules.js';
import * as alerts from './service.js';
import { Alert, AlertConnection, AlertRule, AlertRuleInput, AlertsArgs } from './types.js';

@Resolver(() => AlertRule)
export class AlertRuleResolver {
  @FieldResolver(() => ID)
  id(@Root() rule: AlertRule): string {
    return toGlobalId('AlertRule', rule.id);
  }

  @Query(() => [AlertRule], { description: `every rule, oldest first (at most ${rules.MAX_ALERT_RULES})` })
  @MaxItems(rules.MAX_ALERT_RULES)
  alertRules(@Ctx() ctx: Context): Promise<AlertRule[]> {
    return rules.listRules(ctx);
  }

  @Mutation(() => AlertRule, { description: 'admin only' })
  createAlertRule(@Arg('input') input: AlertRuleInput, @Ctx() ctx: Context): Promise<AlertRule> {
    return rules.createRule(ctx, input);
  }

  @Mutation(() => AlertRule, { description: 'admin only; open alerts of the rule are resolved when its condition changes' })
  updateAlertRule(@Arg('id', () => ID) id: string, @Arg('input') input: AlertRuleInput, @Ctx() ctx: Context): Promise<AlertRule> {
    return rules.updateRule(ctx, idOf('AlertRule', id), input);
  }

  @Mutation(() => ID, { description: 'admin only; returns the id of the deleted rule and resolves its open alerts' })
  async deleteAlertRule(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await rules.deleteRule(ctx, idOf('AlertRule', id));
    return id;
  }
}

@Resolver(() => Alert)
export class AlertResolver {
  @FieldResolver(() => ID)
  id(@Root() alert: Alert): string {
    return toGlobalId('Alert', alert.id);
  }

  @FieldResolver(() => AlertRule)
  async rule(@Root() alert: Alert, @Ctx() ctx: Context): Promise<AlertRule> {
    return (await ctx.loaders.alertRuleById.load(alert.ruleId))!;
  }

  @FieldResolver(() => User, { nullable: true, description: 'who acknowledged it' })
  acknowledgedBy(@Root() alert: Alert, @Ctx() ctx: Context): Promise<User | null> | null {
    return alert.acknowledgedById ? ctx.loaders.userById.load(alert.acknowledgedById) : null;
  }

  @FieldResolver(() => [Notification], { description: `messages that named this alert, sent or being retried, oldest first (the newest ${MAX_ALERT_NOTIFICATIONS})` })
  @MaxItems(MAX_ALERT_NOTIFICATIONS)
  notifications(@Root() alert: Alert, @Ctx() ctx: Context): Promise<Notification[]> {
    return ctx.loaders.notificationsByAlert.load(alert.id);
  }

  @FieldResolver(() => [Silence], { description: 'the silences in force now whose matchers hold (its notifications are muted); none once resolved' })
  @MaxItems(MAX_SILENCES)
  async silencedBy(@Root() alert: Alert, @Ctx() ctx: Context): Promise<Silence[]> {
    return (await ctx.loaders.mutingByAlert.load(alert.id)).silencedBy;
  }

  @FieldResolver(() => [NotificationRoute], { description: 'the notification routes that take it under today\'s policy, in the order tried; empty: no route does, the default policy (every enabled contact point) sends it' })
  @MaxItems(MAX_ROUTES)
  routes(@Root() alert: Alert, @Ctx() ctx: Context): Promise<NotificationRoute[]> {
    return ctx.loaders.routesByAlert.load(alert.id);
  }

  @FieldResolver(() => Boolean, { description: 'whether an inhibition rule mutes it now: a firing source alert with the same equal labels exists' })
  async inhibited(@Root() alert: Alert, @Ctx() ctx: Context): Promise<boolean> {
    return (await ctx.loaders.mutingByAlert.load(alert.id)).inhibited;
  }

  @Query(() => AlertConnection, { description: 'newest first' })
  alerts(@Args() args: AlertsArgs, @Ctx() ctx: Context): Promise<AlertConnection> {
    return alerts.listAlerts(ctx, args);
  }

  @Query(() => Alert, { nullable: true })
  alert(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Alert | null> {
    requireViewer(ctx.viewer);
    return ctx.loaders.alertById.load(idOf('Alert', id));
  }

  @Mutation(() => Alert, { description: 'ADMIN or MEMBER; only a FIRING alert' })
  acknowledgeAlert(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Alert> {
    return alerts.acknowledgeAlert(ctx, idOf('Alert', id));
  }

  @Mutation(() => Alert, { description: 'ADMIN or MEMBER; any open alert' })
  resolveAlert(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Alert> {
    return alerts.resolveAlert(ctx, idOf('Alert', id));
  }
}
