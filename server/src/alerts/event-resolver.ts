/** `alertEvents`: live (and resumable) changes of alerts, with the alert as it is now. */
import { Arg, Ctx, FieldResolver, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../app/context.js';
import { eventCursor } from '../live/event-feed.js';
import type { StoredEvent } from '../live/event-log.js';
import { followAlertEvents } from './events.js';
import { Alert, AlertEvent } from './types.js';

@Resolver(() => AlertEvent)
export class AlertEventResolver {
  @Subscription(() => AlertEvent, {
    description: 'Alert changes: opened (PENDING), FIRING, ACKNOWLEDGED, RESOLVED. With `after`, every later event is replayed first.',
    subscribe: ({ args, context }) => followAlertEvents(context as Context, args.after),
  })
  alertEvents(
    @Root() event: StoredEvent,
    @Arg('after', () => String, { nullable: true, description: 'the cursor of the last event seen' }) _after?: string,
  ): StoredEvent {
    return event;
  }

  @FieldResolver(() => String, { description: 'resume point: pass it as `after` to the same subscription; opaque (`<topic>:<position>`, positions increase in the order events happened)' })
  cursor(@Root() event: StoredEvent): string {
    return eventCursor(event);
  }

  @FieldResolver(() => Alert)
  async alert(@Root() event: StoredEvent, @Ctx() ctx: Context): Promise<Alert> {
    return (await ctx.loaders.alertById.load(String(event.payload.alertId)))!;
  }
}
