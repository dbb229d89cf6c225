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
  @Field(() => String, { nullable: true, description: 'the message template (Liquid) its notifications are rendered from; null: the default for its kind (see previewContactPointMessage)' })
  template!: string | null;
  deletedAt!: Date | null;
}

@InputType()
export class ContactPointInput {
  @Field() name!: string;
  @Field(() => ContactKind) kind!: Kind;
  @Field(() => JSONResolver, { description: 'by kind, see ContactPoint.settings; on update a secret left out or sent back redacted stays as it was' })
  settings!: unknown;
  @Field(() => Boolean, { nullable: true, description: 'defaults to true (on update: unchanged)' }) enabled?: boolean | null;
  @Field(() => String, { nullable: true, description: 'a Liquid message template over the alert\'s fields, escaped for the kind; omitted: unchanged on update (default on create); null, empty or the default\'s text: the default' })
  template?: string | null;
}

@ObjectType({ description: 'What a contact point would send for an alert, rendered from a template' })
export class MessagePreview {
  @Field(() => ContactKind) kind!: Kind;
  @Field({ description: 'the template rendered (escaped for the kind): Slack\'s text, the e-mail\'s HTML body, the webhook\'s "text", PagerDuty\'s summary' })
  text!: string;
  @Field({ description: 'the whole payload as sent: the JSON body, or for e-mail the subject and the HTML body; secrets redacted' })
  body!: string;
  @Field({ description: 'the template used: the one given, or the kind\'s default' })
  template!: string;
  @Field({ description: 'whether the text was cut at the rendered size limit' })
  truncated!: boolean;
  @Field({ description: 'true when rendered for the sample alert, false for a real one' })
  sample!: boolean;
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
