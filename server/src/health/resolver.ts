/** The `health` query: open to anyone, like `/api/health`. */
import { Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { checkHealth } from './service.js';
import { Health } from './types.js';

@Resolver()
export class HealthResolver {
  @Query(() => Health)
  health(@Ctx() ctx: Context): Promise<Health> {
    return checkHealth(ctx.app, ctx.app.healthChecks);
  }
}
