/** GraphQL surface of the status page and incidents: thin — parse, call the service. */
import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { MaxItems } from '../graphql/query-limits.js';
import { User } from '../users/entity.js';
import { checkedDays } from './components.js';
import * as incidents from './service.js';
import {
  ComponentStatus, Incident, IncidentConnection, IncidentInput, IncidentsArgs, IncidentUpdate, MAX_INCIDENT_UPDATES, MAX_UPTIME_DAYS, StatusPage, UptimeDay,
} from './types.js';

@Resolver(() => Incident)
export class IncidentResolver {
  @FieldResolver(() => ID)
  id(@Root() incident: Incident): string {
    return toGlobalId('Incident', incident.id);
  }

  @FieldResolver(() => [IncidentUpdate], { description: 'newest first' })
  @MaxItems(MAX_INCIDENT_UPDATES)
  updates(@Root() incident: Incident, @Ctx() ctx: Context): Promise<IncidentUpdate[]> {
    return ctx.loaders.updatesByIncident.load(incident.id);
  }

  @Query(() => StatusPage, { description: 'components, uptime and incidents; without sign-in too when STATUS_PAGE=public' })
  statusPage(@Ctx() ctx: Context): Promise<StatusPage> {
    return incidents.statusPage(ctx);
  }

  @Query(() => IncidentConnection, { description: 'every incident, newest first' })
  incidents(@Args() args: IncidentsArgs, @Ctx() ctx: Context): Promise<IncidentConnection> {
    return incidents.listIncidents(ctx, args);
  }

  @Mutation(() => Incident, { description: 'admin only; opens an incident as INVESTIGATING with its first update' })
  createIncident(@Arg('input') input: IncidentInput, @Ctx() ctx: Context): Promise<Incident> {
    return incidents.createIncident(ctx, input);
  }

  @Mutation(() => Incident, { description: 'admin only; status INVESTIGATING, IDENTIFIED, MONITORING or RESOLVED; CONFLICT once resolved' })
  postIncidentUpdate(
    @Arg('id', () => ID) id: string,
    @Arg('status') status: string,
    @Arg('message') message: string,
    @Ctx() ctx: Context,
  ): Promise<Incident> {
    return incidents.postIncidentUpdate(ctx, idOf('Incident', id), status, message);
  }

  @Mutation(() => Incident, { description: 'admin only; a RESOLVED update, with "This incident has been resolved." when no message is given' })
  resolveIncident(@Arg('id', () => ID) id: string, @Arg('message', () => String, { nullable: true }) message: string | null, @Ctx() ctx: Context): Promise<Incident> {
    return incidents.resolveIncident(ctx, idOf('Incident', id), message);
  }
}

@Resolver(() => IncidentUpdate)
export class IncidentUpdateResolver {
  @FieldResolver(() => User, { nullable: true, description: 'who posted it; null without sign-in (the public page names nobody) or once the account is deleted' })
  author(@Root() update: IncidentUpdate, @Ctx() ctx: Context): Promise<User | null> | null {
    return ctx.viewer && update.authorId ? ctx.loaders.userById.load(update.authorId) : null;
  }
}

@Resolver(() => ComponentStatus)
export class ComponentStatusResolver {
  @FieldResolver(() => [UptimeDay], { description: `one per UTC day, oldest first, today last; days 1 to ${MAX_UPTIME_DAYS}, default ${MAX_UPTIME_DAYS}` })
  @MaxItems(MAX_UPTIME_DAYS)
  uptime(@Root() component: ComponentStatus, @Arg('days', () => Int, { nullable: true }) days: number | null): Promise<UptimeDay[]> {
    return component.history(checkedDays(days));
  }
}
