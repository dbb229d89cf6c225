/** The backlog of one task queue, as autoscalers and waiting workers read it. */
import { Field, Float, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The backlog of a task queue, counting the tasks of the workflows the viewer may see', simpleResolvers: true })
export class TaskQueue {
  @Field()
  name!: string;

  @Field(() => Int, { description: 'READY tasks claimTask would hand out now' })
  ready!: number;

  @Field(() => Int, { description: 'RUNNING tasks (claimed, not finished)' })
  running!: number;

  @Field(() => Int, { description: 'READY tasks backing off after a failed attempt (nextAttemptAt still ahead): claimable later, not now' })
  delayed!: number;

  @Field(() => Float, { nullable: true, description: 'seconds since the oldest of the `ready` tasks became claimable; null when none is' })
  oldestReadyAgeSeconds!: number | null;

  /** seconds until the first `delayed` task becomes claimable (not in the schema: when to look again) */
  nextReadyInSeconds!: number | null;
}
