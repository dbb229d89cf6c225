/** GraphQL types of alert routing: routes, silences, maintenance windows, inhibition rules. */
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Node } from '../../graphql/node.js';
import { MaxItems } from '../../graphql/query-limits.js';
import { MAX_MATCHERS, type MatcherOp } from './matchers.js';

@ObjectType({ description: 'A label matcher: op is = != =~ or !~ (a regular expression matches the whole value, RE2 syntax); a missing label is ""' })
export class Matcher {
  @Field() label!: string;
  @Field(() => String) op!: MatcherOp;
  @Field() value!: string;
}

@InputType()
export class MatcherInput {
  @Field() label!: string;
  @Field({ description: '= != =~ !~' }) op!: string;
  @Field() value!: string;
}

@ObjectType({ implements: Node, description: 'Where alerts whose labels match go, and how they are grouped' })
export class NotificationRoute {
  id!: string;
  @Field(() => Int, { description: 'routes are tried in this order, from 1' }) position!: number;
  @Field(() => [Matcher], { description: 'every one must hold; none: every alert' }) @MaxItems(MAX_MATCHERS) matchers!: Matcher[];
  contactPointIds!: string[];
  @Field({ description: 'true: routes after this one are tried too' }) continue!: boolean;
  @Field(() => [String], { description: 'alerts with equal values of these labels go out as one notification' }) @MaxItems(MAX_MATCHERS) groupBy!: string[];
  @Field(() => Int, { description: 'how long a new group waits for more alerts before its first notification' }) groupWaitSeconds!: number;
  @Field(() => Int, { description: 'at most one notification per group this often when the group changes' }) groupIntervalSeconds!: number;
  @Field(() => Int, { description: 'sent again this often while the group fires and is not all acknowledged' }) repeatIntervalSeconds!: number;
  @Field(() => Int, { nullable: true, description: 'escalateTo hears of a group not all acknowledged this long after its first notification' }) escalateAfterSeconds!: number | null;
  escalateToIds!: string[];
}

@InputType()
export class NotificationRouteInput {
  @Field(() => [MatcherInput]) matchers!: MatcherInput[];
  @Field(() => [ID], { description: 'none: alerts taken by this route are shown but sent nowhere' }) contactPointIds!: string[];
  @Field(() => Boolean, { nullable: true, description: 'defaults to false' }) continue?: boolean | null;
  @Field(() => [String], { nullable: true, description: 'defaults to [rule, service]' }) groupBy?: string[] | null;
  @Field(() => Int, { nullable: true, description: 'defaults to 30' }) groupWaitSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: 'defaults to 300' }) groupIntervalSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: 'defaults to 14400' }) repeatIntervalSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: 'null: no escalation' }) escalateAfterSeconds?: number | null;
  @Field(() => [ID], { nullable: true }) escalateToIds?: string[] | null;
}

@ObjectType({ implements: Node, description: 'Mutes the notifications of matching alerts between startsAt and endsAt; they still open and show' })
export class Silence {
  id!: string;
  @Field(() => [Matcher]) @MaxItems(MAX_MATCHERS) matchers!: Matcher[];
  @Field() startsAt!: Date;
  @Field() endsAt!: Date;
  @Field() comment!: string;
  createdById!: string | null;
  @Field({ description: 'startsAt ≤ now < endsAt' }) active!: boolean;
}

@InputType()
export class SilenceInput {
  @Field(() => [MatcherInput]) matchers!: MatcherInput[];
  @Field(() => Date, { nullable: true, description: 'defaults to now' }) startsAt?: Date | null;
  @Field() endsAt!: Date;
  @Field() comment!: string;
}

@ObjectType({ implements: Node, description: 'A recurring mute timing: from each time cron fires, for durationMinutes, in timezone' })
export class MaintenanceWindow {
  id!: string;
  @Field() name!: string;
  @Field(() => [Matcher]) @MaxItems(MAX_MATCHERS) matchers!: Matcher[];
  @Field({ description: 'five fields: minute hour day-of-month month day-of-week' }) cron!: string;
  @Field(() => Int) durationMinutes!: number;
  @Field({ description: 'an IANA time zone, such as Europe/Berlin' }) timezone!: string;
  @Field() activeNow!: boolean;
  @Field(() => Date, { nullable: true, description: 'the next time the window opens' }) nextStartsAt!: Date | null;
}

@ObjectType({ description: 'One time a maintenance window is open' })
export class MaintenanceOpening {
  @Field() startsAt!: Date;
  @Field() endsAt!: Date;
}

@InputType()
export class MaintenanceWindowInput {
  @Field() name!: string;
  @Field(() => [MatcherInput]) matchers!: MatcherInput[];
  @Field() cron!: string;
  @Field(() => Int) durationMinutes!: number;
  @Field(() => String, { nullable: true, description: 'defaults to UTC' }) timezone?: string | null;
}

@ObjectType({ implements: Node, description: 'While a firing alert matches source, alerts matching target with the same equal labels are not notified' })
export class InhibitionRule {
  id!: string;
  @Field(() => [Matcher]) @MaxItems(MAX_MATCHERS) source!: Matcher[];
  @Field(() => [Matcher]) @MaxItems(MAX_MATCHERS) target!: Matcher[];
  @Field(() => [String]) @MaxItems(MAX_MATCHERS) equal!: string[];
}

@InputType()
export class InhibitionRuleInput {
  @Field(() => [MatcherInput]) source!: MatcherInput[];
  @Field(() => [MatcherInput]) target!: MatcherInput[];
  @Field(() => [String], { nullable: true, description: 'defaults to []' }) equal?: string[] | null;
}
