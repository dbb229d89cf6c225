/** GraphQL types of the status page: components with their uptime, incidents and their updates. */
import { ArgsType, Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { Node, PageInfo } from '../graphql/node.js';
import { MaxItems } from '../graphql/query-limits.js';
import { Severity } from '../alerts/types.js';
import { MaintenanceWindow } from '../alerts/routing/types.js';
import { MAX_PAGE_WINDOWS, UPCOMING_DAYS } from './maintenance.js';

/** An incident's status, from its newest update; RESOLVED closes it. */
export const INCIDENT_STATUSES = ['INVESTIGATING', 'IDENTIFIED', 'MONITORING', 'RESOLVED'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Updates one incident holds at most, so an incident's answer stays bounded. */
export const MAX_INCIDENT_UPDATES = 100;
/** Components one incident names at most (there are only a few). */
export const MAX_INCIDENT_COMPONENTS = 10;
/** Days of uptime a component gives at most, and by default. */
export const MAX_UPTIME_DAYS = 90;
/** Open incidents the status page lists at most, and resolved ones (of the last `RECENT_DAYS`). */
export const MAX_OPEN_ON_PAGE = 50;
export const MAX_RESOLVED_ON_PAGE = 10;
export const RECENT_DAYS = 14;
/** api, database and the optional checks (Redis): replicas are grouped into api. */
const MAX_PAGE_COMPONENTS = 10;

@ObjectType({ description: 'One message on an incident, with the status it moved the incident to' })
export class IncidentUpdate {
  id!: string;
  incidentId!: string;
  @Field() at!: Date;
  @Field({ description: 'INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED' }) status!: string;
  @Field() message!: string;
  /** resolved by the resolver; null for callers who are not signed in (the public page names nobody) */
  authorId!: string | null;
}

@ObjectType({ implements: Node, description: 'Something users notice, told on the status page until it is resolved' })
export class Incident {
  id!: string;
  @Field() title!: string;
  @Field({ description: 'INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED: the status of the newest update' }) status!: string;
  @Field(() => Severity) impact!: Severity;
  @Field(() => [String], { description: 'the status page components it affects (api, database, redis)' })
  @MaxItems(MAX_INCIDENT_COMPONENTS)
  components!: string[];
  @Field() startedAt!: Date;
  @Field(() => Date, { nullable: true }) resolvedAt!: Date | null;
}

@ObjectType({ description: 'One UTC day of a component' })
export class UptimeDay {
  @Field({ description: 'YYYY-MM-DD (UTC)' }) date!: string;
  @Field(() => Float, { nullable: true, description: 'percent of health checks that found it up; null when nothing was measured that day' })
  upPercent!: number | null;
}

@ObjectType({ description: 'A part of the service as the status page shows it; every replica counts as the one api component' })
export class ComponentStatus {
  @Field({ description: 'api, database or redis' }) name!: string;
  @Field({ description: 'up, degraded (some replicas are down) or down' }) status!: string;
  /** the days of `uptime`, newest last: one read of the rollups per request, shared by every component */
  history!: (days: number) => Promise<UptimeDay[]>;
}

@ObjectType()
export class StatusPage {
  @Field(() => [ComponentStatus])
  @MaxItems(MAX_PAGE_COMPONENTS)
  components!: ComponentStatus[];
  @Field(() => [Incident], { description: `open incidents (newest first), then those resolved in the last ${RECENT_DAYS} days` })
  @MaxItems(MAX_OPEN_ON_PAGE + MAX_RESOLVED_ON_PAGE)
  incidents!: Incident[];
  @Field(() => [MaintenanceWindow], {
    description: `maintenance windows open now or opening within ${UPCOMING_DAYS} days, soonest first; without sign-in their matchers are empty`,
  })
  @MaxItems(MAX_PAGE_WINDOWS)
  maintenance!: MaintenanceWindow[];
}

@InputType()
export class IncidentInput {
  @Field({ description: '1 to 200 characters' }) title!: string;
  @Field(() => Severity) impact!: Severity;
  @Field(() => [String], { description: 'status page components: api, database, redis (when configured); may be empty' })
  components!: string[];
  @Field({ description: 'the first update, 1 to 5,000 characters' }) message!: string;
}

@ObjectType()
export class IncidentEdge {
  @Field() cursor!: string;
  @Field(() => Incident) node!: Incident;
}

@ObjectType()
export class IncidentConnection {
  @Field(() => [IncidentEdge])
  @MaxItems(MAX_PAGE_SIZE)
  edges!: IncidentEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** null only when the query does not select it (then it is not counted) */
  @Field(() => Int) totalCount!: number | null;
}

@ArgsType()
export class IncidentsArgs {
  @Field(() => Int, { nullable: true, description: 'page size, 1 to 100; defaults to 20' }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
}
