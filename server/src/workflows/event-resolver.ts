/** `workflowEvents`: live (and resumable) changes of the workflows the viewer may see. */
import { Arg, Ctx, Field, FieldResolver, ID, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../app/context.js';
import { eventCursor } from '../live/event-feed.js';
import type { StoredEvent } from '../live/event-log.js';
import { toGlobalId } from '../core/ids.js';
import { Task } from './task-entity.js';
import { Workflow } from './entity.js';
import { followWorkflowEvents } from './events.js';

@ObjectType({ description: 'A change to a workflow or one of its tasks' })
export class WorkflowEvent {
  @Field({ description: 'CREATED, UPDATED, DELETED or TASK_UPDATED' })
  kind!: string;
}

@Resolver(() => WorkflowEvent)
export class WorkflowEventResolver {
  @Subscription(() => WorkflowEvent, {
    description: 'Changes to the workflows the viewer may see (or to one). With `after`, every later event is replayed first.',
    subscribe: ({ args, context }) => followWorkflowEvents(context as Context, args.workflowId, args.after),
  })
  workflowEvents(
    @Root() event: StoredEvent,
    @Arg('workflowId', () => ID, { nullable: true }) _workflowId?: string,
    @Arg('after', () => String, { nullable: true, description: 'the cursor of the last event seen' }) _after?: string,
  ): StoredEvent {
    return event;
  }

  @FieldResolver(() => String, { description: 'resume point: pass it as `after` to the same subscription; opaque (`<topic>:<position>`, positions increase in the order events happened)' })
  cursor(@Root() event: StoredEvent): string {
    return eventCursor(event);
  }

  @FieldResolver(() => ID, { description: 'the workflow changed; still set when it was deleted' })
  workflowId(@Root() event: StoredEvent): string {
    return toGlobalId('Workflow', event.workflowId!);
  }

  @FieldResolver(() => Workflow, { nullable: true, description: 'as it is now; null once deleted' })
  workflow(@Root() event: StoredEvent, @Ctx() ctx: Context): Promise<Workflow | null> {
    return ctx.loaders.workflowById.load(event.workflowId!);
  }

  @FieldResolver(() => Task, { nullable: true, description: 'the task changed, for TASK_UPDATED' })
  async task(@Root() event: StoredEvent, @Ctx() ctx: Context): Promise<Task | null> {
    return event.taskId ? ctx.loaders.taskById.load(event.taskId) : null;
  }
}
