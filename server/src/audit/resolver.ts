import { Args, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { User } from '../users/entity.js';
import { listAuditLog } from './service.js';
import { AuditEntry, AuditEntryConnection, AuditLogArgs } from './types.js';

@Resolver(() => AuditEntry)
export class AuditResolver {
  @FieldResolver(() => ID)
  id(@Root() entry: AuditEntry): string {
    return toGlobalId('AuditEntry', entry.id);
  }

  @FieldResolver(() => User, { nullable: true, description: 'who did it; null for a change nobody signed in made' })
  actor(@Root() entry: AuditEntry, @Ctx() ctx: Context): Promise<User | null> | null {
    return entry.actorId ? ctx.loaders.userById.load(entry.actorId) : null;
  }

  @Query(() => AuditEntryConnection, { description: 'ADMIN only; newest first' })
  auditLog(@Args() args: AuditLogArgs, @Ctx() ctx: Context): Promise<AuditEntryConnection> {
    return listAuditLog(ctx, args);
  }
}
