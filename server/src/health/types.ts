/** GraphQL types of the health report. */
import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType()
export class ComponentHealth {
  @Field() name!: string;
  @Field({ description: 'up or down' }) status!: string;
  @Field(() => Float, { nullable: true }) latencyMs?: number | null;
  @Field(() => String, { nullable: true }) detail?: string | null;
}

@ObjectType()
export class Health {
  @Field({ description: 'healthy, degraded (an optional component is down) or unhealthy' }) status!: string;
  @Field(() => [ComponentHealth]) components!: ComponentHealth[];
  @Field({ description: 'the replica that answered' }) instance!: string;
  @Field() checkedAt!: Date;
}
