/** GraphQL types of the health report. */
import { Field, Float, ObjectType } from 'type-graphql';
import { MaxItems } from '../graphql/query-limits.js';

export type ComponentCheck = () => Promise<void>;

/** Checks that `/api/ready` and `health` use besides the database: registered by the app. */
export interface HealthChecks {
  optional: Record<string, ComponentCheck>;
}

/** Replicas a health report lists at most (by name); more are not expected in one deployment. */
export const MAX_LISTED_REPLICAS = 100;
/** api, database and the optional checks (Redis), then the replicas. */
const MAX_COMPONENTS = 10 + MAX_LISTED_REPLICAS;

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
  @Field(() => [ComponentHealth])
  @MaxItems(MAX_COMPONENTS)
  components!: ComponentHealth[];
  @Field({ description: 'the replica that answered' }) instance!: string;
  @Field() checkedAt!: Date;
}
