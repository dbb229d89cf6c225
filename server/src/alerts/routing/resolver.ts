/** GraphQL surface of alert routing: thin — parse, call the service. */
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../app/context.js';
import { idOf, toGlobalId } from '../../core/ids.js';
import { MaxItems } from '../../graphql/query-limits.js';
import { ContactPoint } from '../notifications/types.js';
import { User } from '../../users/entity.js';
import * as routes from './routes.js';
import * as muting from './silences.js';
import {
  InhibitionRule, InhibitionRuleInput, MaintenanceOpening, MaintenanceWindow, MaintenanceWindowInput, NotificationRoute, NotificationRouteInput, Silence, SilenceInput,
} from './types.js';

/** The contact points of these ids that still exist, in the given order. */
async function contactPointsOf(ctx: Context, ids: readonly string[]): Promise<ContactPoint[]> {
  const points = await ctx.loaders.contactPointById.loadMany(ids);
  return points.filter((p): p is ContactPoint => p instanceof ContactPoint && !p.deletedAt);
}

@Resolver(() => NotificationRoute)
export class NotificationRouteResolver {
  @FieldResolver(() => ID)
  id(@Root() route: NotificationRoute): string {
    return toGlobalId('NotificationRoute', route.id);
  }

  @FieldResolver(() => [ContactPoint], { description: 'where its groups\' messages go; none: shown, sent nowhere' })
  @MaxItems(50)
  contactPoints(@Root() route: NotificationRoute, @Ctx() ctx: Context): Promise<ContactPoint[]> {
    return contactPointsOf(ctx, route.contactPointIds);
  }

  @FieldResolver(() => [ContactPoint], { description: 'who hears of a group still unacknowledged after escalateAfterSeconds' })
  @MaxItems(50)
  escalateTo(@Root() route: NotificationRoute, @Ctx() ctx: Context): Promise<ContactPoint[]> {
    return contactPointsOf(ctx, route.escalateToIds);
  }

  @Query(() => [NotificationRoute], { description: `the notification policy, in the order routes are tried (at most ${routes.MAX_ROUTES}); alerts none takes go to every enabled contact point` })
  @MaxItems(routes.MAX_ROUTES)
  notificationRoutes(@Ctx() ctx: Context): Promise<NotificationRoute[]> {
    return routes.listRoutes(ctx);
  }

  @Mutation(() => NotificationRoute, { description: 'admin only; at position (1 to n+1, default last), moving the routes from there down' })
  createNotificationRoute(
    @Arg('input') input: NotificationRouteInput,
    @Arg('position', () => Int, { nullable: true }) position: number | null,
    @Ctx() ctx: Context,
  ): Promise<NotificationRoute> {
    return routes.createRoute(ctx, input, position);
  }

  @Mutation(() => NotificationRoute, { description: 'admin only' })
  updateNotificationRoute(@Arg('id', () => ID) id: string, @Arg('input') input: NotificationRouteInput, @Ctx() ctx: Context): Promise<NotificationRoute> {
    return routes.updateRoute(ctx, idOf('NotificationRoute', id), input);
  }

  @Mutation(() => NotificationRoute, { description: 'admin only; to position 1 to n, the others shifting' })
  moveNotificationRoute(@Arg('id', () => ID) id: string, @Arg('position', () => Int) position: number, @Ctx() ctx: Context): Promise<NotificationRoute> {
    return routes.moveRoute(ctx, idOf('NotificationRoute', id), position);
  }

  @Mutation(() => ID, { description: 'admin only; returns its id' })
  async deleteNotificationRoute(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await routes.deleteRoute(ctx, idOf('NotificationRoute', id));
    return id;
  }
}

@Resolver(() => Silence)
export class SilenceResolver {
  @FieldResolver(() => ID)
  id(@Root() silence: Silence): string {
    return toGlobalId('Silence', silence.id);
  }

  @FieldResolver(() => User, { nullable: true, description: 'who made it (null once that user is deleted)' })
  createdBy(@Root() silence: Silence, @Ctx() ctx: Context): Promise<User | null> | null {
    return silence.createdById ? ctx.loaders.userById.load(silence.createdById) : null;
  }

  @Query(() => [Silence], { description: `newest first (at most ${muting.MAX_SILENCES}); active: true only those in force now, false only the others (pending or ended)` })
  @MaxItems(muting.MAX_SILENCES)
  silences(@Arg('active', () => Boolean, { nullable: true }) active: boolean | null, @Ctx() ctx: Context): Promise<Silence[]> {
    return muting.listSilences(ctx, active);
  }

  @Mutation(() => Silence, { description: 'ADMIN or MEMBER; at least one matcher that a missing label does not satisfy; startsAt defaults to now' })
  createSilence(@Arg('input') input: SilenceInput, @Ctx() ctx: Context): Promise<Silence> {
    return muting.createSilence(ctx, input);
  }

  @Mutation(() => Silence, { description: 'ADMIN or MEMBER; a pending or active silence (an ended one: CONFLICT); startsAt left out stays as it was' })
  updateSilence(@Arg('id', () => ID) id: string, @Arg('input') input: SilenceInput, @Ctx() ctx: Context): Promise<Silence> {
    return muting.updateSilence(ctx, idOf('Silence', id), input);
  }

  @Mutation(() => Silence, { description: 'ADMIN or MEMBER; ends it now' })
  expireSilence(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Silence> {
    return muting.expireSilence(ctx, idOf('Silence', id));
  }
}

@Resolver(() => MaintenanceWindow)
export class MaintenanceWindowResolver {
  @FieldResolver(() => ID)
  id(@Root() window: MaintenanceWindow): string {
    return toGlobalId('MaintenanceWindow', window.id);
  }

  @FieldResolver(() => [MaintenanceOpening], { description: `when it is open between from and to (at most 400 days apart; the first ${muting.MAX_OPENINGS}), oldest first: the bands on the metric charts` })
  @MaxItems(muting.MAX_OPENINGS)
  openings(@Root() window: MaintenanceWindow, @Arg('from') from: Date, @Arg('to') to: Date): MaintenanceOpening[] {
    return muting.windowOpeningsBetween(window, from, to).map((opening) => Object.assign(new MaintenanceOpening(), opening));
  }

  @Query(() => [MaintenanceWindow], { description: `oldest first (at most ${muting.MAX_WINDOWS})` })
  @MaxItems(muting.MAX_WINDOWS)
  maintenanceWindows(@Ctx() ctx: Context): Promise<MaintenanceWindow[]> {
    return muting.listWindows(ctx);
  }

  @Mutation(() => MaintenanceWindow, { description: 'admin only' })
  createMaintenanceWindow(@Arg('input') input: MaintenanceWindowInput, @Ctx() ctx: Context): Promise<MaintenanceWindow> {
    return muting.createWindow(ctx, input);
  }

  @Mutation(() => MaintenanceWindow, { description: 'admin only' })
  updateMaintenanceWindow(@Arg('id', () => ID) id: string, @Arg('input') input: MaintenanceWindowInput, @Ctx() ctx: Context): Promise<MaintenanceWindow> {
    return muting.updateWindow(ctx, idOf('MaintenanceWindow', id), input);
  }

  @Mutation(() => ID, { description: 'admin only; returns its id' })
  async deleteMaintenanceWindow(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await muting.deleteWindow(ctx, idOf('MaintenanceWindow', id));
    return id;
  }
}

@Resolver(() => InhibitionRule)
export class InhibitionRuleResolver {
  @FieldResolver(() => ID)
  id(@Root() rule: InhibitionRule): string {
    return toGlobalId('InhibitionRule', rule.id);
  }

  @Query(() => [InhibitionRule], { description: `oldest first (at most ${muting.MAX_INHIBITION_RULES})` })
  @MaxItems(muting.MAX_INHIBITION_RULES)
  inhibitionRules(@Ctx() ctx: Context): Promise<InhibitionRule[]> {
    return muting.listInhibitionRules(ctx);
  }

  @Mutation(() => InhibitionRule, { description: 'admin only' })
  createInhibitionRule(@Arg('input') input: InhibitionRuleInput, @Ctx() ctx: Context): Promise<InhibitionRule> {
    return muting.createInhibitionRule(ctx, input);
  }

  @Mutation(() => InhibitionRule, { description: 'admin only' })
  updateInhibitionRule(@Arg('id', () => ID) id: string, @Arg('input') input: InhibitionRuleInput, @Ctx() ctx: Context): Promise<InhibitionRule> {
    return muting.updateInhibitionRule(ctx, idOf('InhibitionRule', id), input);
  }

  @Mutation(() => ID, { description: 'admin only; returns its id' })
  async deleteInhibitionRule(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await muting.deleteInhibitionRule(ctx, idOf('InhibitionRule', id));
    return id;
  }
}
