/** GraphQL types of alert rules, alerts and their notifications. */
import { JSONResolver } from 'graphql-scalars';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { Labels } from './labels.js';
import { Node, PageInfo } from '../graphql/node.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { MaxItems } from '../graphql/query-limits.js';

export enum Severity {
  CRITICAL = 'CRITICAL',
  HIGH = 'HIGH',
  MEDIUM = 'MEDIUM',
  LOW = 'LOW',
}
registerEnumType(Severity, { name: 'Severity' });

export enum AlertStatus {
  PENDING = 'PENDING',
  FIRING = 'FIRING',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  RESOLVED = 'RESOLVED',
}
registerEnumType(AlertStatus, {
  name: 'AlertStatus',
  description: 'PENDING until the condition held forSeconds, then FIRING; ACKNOWLEDGED by a person; RESOLVED when it clears',
});

@ObjectType({ implements: Node, description: 'Watches one metric: an alert opens per service whose latest value breaks the rule' })
export class AlertRule {
  id!: string;
  @Field() name!: string;
  @Field() metric!: string;
  @Field(() => String, { nullable: true, description: 'every service reporting the metric when null' }) service!: string | null;
  @Field({ description: 'one of > >= < <= == !=' }) comparator!: string;
  @Field(() => Float) threshold!: number;
  @Field(() => Int, { description: 'how long the condition must hold before the alert fires' }) forSeconds!: number;
  @Field(() => Severity) severity!: Severity;
  @Field() enabled!: boolean;
  @Field(() => JSONResolver, { description: 'the rule\'s own labels (name → string), added to its alerts\' severity, service, metric and rule' }) labels!: Labels;
  @Field(() => String, { nullable: true, description: 'one line for the messages about its alerts' }) summary!: string | null;
  @Field(() => String, { nullable: true, description: 'what to do when it fires: linked from every message' }) runbookUrl!: string | null;
  deletedAt!: Date | null;
}

@ObjectType({ implements: Node })
export class Alert {
  id!: string;
  ruleId!: string;
  @Field({ description: 'the service (or component) the alert is about' }) service!: string;
  @Field(() => AlertStatus) status!: AlertStatus;
  @Field(() => Severity) severity!: Severity;
  @Field(() => Float, { description: 'the value that broke the rule, as last seen' }) value!: number;
  @Field() startedAt!: Date;
  @Field(() => Date, { nullable: true }) firedAt!: Date | null;
  @Field(() => Date, { nullable: true }) acknowledgedAt!: Date | null;
  acknowledgedById!: string | null;
  @Field(() => Date, { nullable: true }) resolvedAt!: Date | null;
  @Field(() => JSONResolver, { description: 'severity, service, metric, rule (the rule\'s name) and the rule\'s own labels, as they were when it opened' }) labels!: Labels;
}

@InputType()
export class AlertRuleInput {
  @Field() name!: string;
  @Field() metric!: string;
  @Field(() => String, { nullable: true }) service?: string | null;
  @Field() comparator!: string;
  @Field(() => Float) threshold!: number;
  @Field(() => Int, { nullable: true, description: 'defaults to 0' }) forSeconds?: number | null;
  @Field(() => Severity) severity!: Severity;
  @Field(() => Boolean, { nullable: true, description: 'defaults to true' }) enabled?: boolean | null;
  @Field(() => JSONResolver, { nullable: true, description: 'label name → string value; omitted: {} for a new rule, unchanged on update' }) labels?: unknown;
  @Field(() => String, { nullable: true, description: 'omitted: unchanged on update; null or empty clears it' }) summary?: string | null;
  @Field(() => String, { nullable: true, description: 'an http(s) URL; omitted: unchanged on update; null or empty clears it' }) runbookUrl?: string | null;
}

@ObjectType()
export class AlertEdge {
  @Field() cursor!: string;
  @Field(() => Alert) node!: Alert;
}

@ObjectType()
export class AlertConnection {
  @Field(() => [AlertEdge])
  @MaxItems(MAX_PAGE_SIZE)
  edges!: AlertEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** null only when the query does not select it (then it is not counted) */
  @Field(() => Int) totalCount!: number | null;
}

@ArgsType()
export class AlertsArgs {
  @Field(() => Int, { nullable: true, description: 'page size, 1 to 100; defaults to 20' }) first?: number | null;
  @Field(() => String, { nullable: true }) after?: string | null;
  @Field(() => [AlertStatus], { nullable: true }) status?: AlertStatus[] | null;
}

@ObjectType({ description: 'A change of an alert; kind is the status it moved to: PENDING, FIRING, ACKNOWLEDGED or RESOLVED' })
export class AlertEvent {
  @Field() kind!: string;
}
