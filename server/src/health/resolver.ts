/** The `health` query (open to anyone, like `/api/health`) and the `healthChanged` subscription. */
import { Ctx, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../app/context.js';
import { followHealth } from './events.js';
import { checkHealth } from './service.js';
import { Health } from './types.js';

@Resolver()
export class HealthResolver {
  @Query(() => Health)
  health(@Ctx() ctx: Context): Promise<Health> {
    return checkHealth(ctx.app, ctx.app.healthChecks);
  }

  @Subscription(() => Health, {
    description: 'the health as this replica sees it now, then the cluster health each time a component changes status',
    subscribe: ({ context }) => followHealth(context as Context),
  })
  healthChanged(@Root() health: Health): Health {
    return health;
  }
}
