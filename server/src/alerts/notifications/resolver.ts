/** GraphQL surface of contact points: thin — parse, call the service. */
import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../app/context.js';
import { idOf, toGlobalId } from '../../core/ids.js';
import { MaxItems } from '../../graphql/query-limits.js';
import * as contactPoints from './contact-points.js';
import { ContactKind, ContactPoint, ContactPointInput, MessagePreview, Notification } from './types.js';
import type { ContactKind as Kind } from './channels.js';

@Resolver(() => ContactPoint)
export class ContactPointResolver {
  @FieldResolver(() => ID)
  id(@Root() point: ContactPoint): string {
    return toGlobalId('ContactPoint', point.id);
  }

  @Query(() => [ContactPoint], { description: `every contact point, oldest first (at most ${contactPoints.MAX_CONTACT_POINTS}); secrets redacted` })
  @MaxItems(contactPoints.MAX_CONTACT_POINTS)
  contactPoints(@Ctx() ctx: Context): Promise<ContactPoint[]> {
    return contactPoints.listContactPoints(ctx);
  }

  @Query(() => MessagePreview, { description: 'admin only; what a contact point of `kind` would send with `template` (omitted or null: the kind\'s default) for the alert `alertId`, or for a sample alert; a template that does not render is BAD_USER_INPUT naming template' })
  previewContactPointMessage(
    @Arg('kind', () => ContactKind) kind: Kind,
    @Arg('template', () => String, { nullable: true }) template: string | null,
    @Arg('alertId', () => ID, { nullable: true }) alertId: string | null,
    @Ctx() ctx: Context,
  ): Promise<MessagePreview> {
    return contactPoints.previewMessage(ctx, kind, template, alertId ? idOf('Alert', alertId) : null);
  }

  @Mutation(() => ContactPoint, { description: 'admin only' })
  createContactPoint(@Arg('input') input: ContactPointInput, @Ctx() ctx: Context): Promise<ContactPoint> {
    return contactPoints.createContactPoint(ctx, input);
  }

  @Mutation(() => ContactPoint, { description: 'admin only; a secret left out or sent back redacted stays as it was' })
  updateContactPoint(@Arg('id', () => ID) id: string, @Arg('input') input: ContactPointInput, @Ctx() ctx: Context): Promise<ContactPoint> {
    return contactPoints.updateContactPoint(ctx, idOf('ContactPoint', id), input);
  }

  @Mutation(() => ID, { description: 'admin only; its queued messages are dropped (FAILED); returns its id' })
  async deleteContactPoint(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    await contactPoints.deleteContactPoint(ctx, idOf('ContactPoint', id));
    return id;
  }

  @Mutation(() => Notification, { description: 'admin only; sends a test message now and reports what the receiver answered' })
  testContactPoint(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Notification> {
    return contactPoints.testContactPoint(ctx, ctx.app.senders, idOf('ContactPoint', id));
  }
}

@Resolver(() => Notification)
export class NotificationResolver {
  @FieldResolver(() => ContactPoint)
  async contactPoint(@Root() notification: Notification, @Ctx() ctx: Context): Promise<ContactPoint> {
    return (await ctx.loaders.contactPointById.load(notification.contactPointId))!;
  }
}
