/** GraphQL types of contact points and of the notifications sent to them. */
import { JSONResolver } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../graphql/node.js';
import { CONTACT_KINDS, type ContactKind as Kind, type ContactSettings } from './channels.js';

export const ContactKind = Object.fromEntries(CONTACT_KINDS.map((kind) => [kind, kind])) as { [K in Kind]: K };
registerEnumType(ContactKind, { name: 'ContactKind' });

@ObjectType({ implements: Node, description: 'Where alert messages go' })
export class ContactPoint {
  id!: string;
  @Field() name!: string;
  @Field(() => ContactKind) kind!: Kind;
  @Field({ description: 'a disabled contact point gets no messages' }) enabled!: boolean;
  @Field(() => JSONResolver, { description: 'SLACK { url } WEBHOOK { url, secret } EMAIL { to } PAGERDUTY { routingKey }; secrets come back redacted' })
  settings!: ContactSettings;
  deletedAt!: Date | null;
}

@InputType()
export class ContactPointInput {
  @Field() name!: string;
  @Field(() => ContactKind) kind!: Kind;
  @Field(() => JSONResolver, { description: 'by kind, see ContactPoint.settings; on update a secret left out or sent back redacted stays as it was' })
  settings!: unknown;
  @Field(() => Boolean, { nullable: true, description: 'defaults to true (on update: unchanged)' }) enabled?: boolean | null;
}

@ObjectType({ description: 'One message to one contact point, and how its delivery went' })
export class Notification {
  @Field(() => ID) id!: string;
  contactPointId!: string;
  @Field({ description: 'slack, webhook, email or pagerduty' }) channel!: string;
  @Field({ description: 'FIRING, ACKNOWLEDGED (PagerDuty only), RESOLVED or TEST' }) event!: string;
  @Field({ description: 'the notification group it speaks for: its route (or "default") and group label values; PagerDuty\'s dedup_key' }) groupKey!: string;
  @Field({ description: 'PENDING (retrying with backoff), DELIVERED or FAILED (gave up, or refused for good)' }) status!: string;
  @Field(() => Int) attempts!: number;
  @Field(() => String, { nullable: true, description: 'why the last attempt failed' }) error!: string | null;
  @Field(() => String, { nullable: true, description: 'what the receiver answered last (status and body, cut at 500 characters)' }) response!: string | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) nextAttemptAt!: Date | null;
  @Field(() => Date, { nullable: true }) sentAt!: Date | null;
}
