/** GraphQL surface of alert routing: thin — parse, call the service. */
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../app/context.js';
import { idOf, toGlobalId } from '../../core/ids.js';
import { MaxItems } from '../../graphql/query-limits.js';
import { ContactPoint } from '../notifications/types.js';
import * as routes from './routes.js';
import { NotificationRoute, NotificationRouteInput } from './types.js';

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
