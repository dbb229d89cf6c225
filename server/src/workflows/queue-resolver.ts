/** `taskQueues` and `taskQueueChanged`: the backlog of task queues, for autoscalers and waiting workers. */
import { Arg, Ctx, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../app/context.js';
import { MaxItems } from '../graphql/query-limits.js';
import { TaskQueue } from './queue-types.js';
import { followTaskQueues, MAX_TASK_QUEUES, taskQueues } from './queues.js';

@Resolver(() => TaskQueue)
export class TaskQueueResolver {
  // Not in the response cache: a backlog also changes with time (backoffs end, ages grow).
  @Query(() => [TaskQueue], { description: `every queue with READY or RUNNING tasks the viewer may see (a member: of its own workflows), by name; at most ${MAX_TASK_QUEUES}` })
  @MaxItems(MAX_TASK_QUEUES)
  taskQueues(@Ctx() ctx: Context): Promise<TaskQueue[]> {
    return taskQueues(ctx);
  }

  @Subscription(() => TaskQueue, {
    description: 'the backlog of each of `queues` (every queue with READY or RUNNING tasks when left out) now, then again whenever it changes: a task of it became READY or claimable, was claimed, finished, failed, was cancelled or deleted; changes close together come as one. Workers wake on it instead of polling.',
    subscribe: ({ args, context }) => followTaskQueues(context as Context, args.queues),
  })
  taskQueueChanged(
    @Root() queue: TaskQueue,
    @Arg('queues', () => [String], { nullable: true, description: 'at most 50 queue names' }) _queues?: string[],
  ): TaskQueue {
    return queue;
  }
}
