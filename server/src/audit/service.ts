/** Reading the audit log (ADMIN only), and keeping it to `AUDIT_RETENTION_DAYS`. */
import type { AppServices, Context } from '../app/context.js';
import { idOf } from '../core/ids.js';
import { repeat } from '../core/repeat.js';
import { requireRole, Role } from '../core/viewer.js';
import { inTransaction, type EntityManager } from '../db/orm.js';
import { connectionOf, decodeCursor, pageSize } from '../db/pagination.js';
import { mayRead } from '../graphql/selection.js';
import * as rows from './rows.js';
import type { AuditEntry, AuditEntryConnection, AuditLogArgs } from './types.js';

const RETENTION_PERIOD_MS = 60 * 60_000;

/** Newest first, filtered by who, what and on what. */
export async function listAuditLog(ctx: Context, args: AuditLogArgs): Promise<AuditEntryConnection> {
  requireRole(ctx.viewer, Role.ADMIN);
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor('audit', args.after) : null;
  const actorId = args.actorId ? idOf('User', args.actorId) : undefined;
  const count = mayRead(ctx.operation.selected, 'AuditEntryConnection', 'totalCount');
  const page = await rows.entriesPage(ctx.read, { actorId, action: args.action, targetId: args.targetId }, { first, after, count });
  return connectionOf('audit', page.rows, (entry) => entry.at, page, after);
}

/** One entry by its database id, for `node(id:)`: null unless the viewer is an ADMIN. */
export async function auditEntry(ctx: Context, id: string): Promise<AuditEntry | null> {
  if (ctx.viewer?.role !== Role.ADMIN) return null;
  return rows.entryById(ctx.read, id);
}

/** Deletes entries past retention; null when another replica is pruning right now. */
export async function pruneAuditLog(em: EntityManager, retentionDays: number): Promise<number | null> {
  return inTransaction(em, (tx) => rows.deleteEntriesBefore(tx, retentionDays));
}

export function startAuditRetention(app: AppServices) {
  return repeat('audit-retention', RETENTION_PERIOD_MS, async () => {
    const deleted = await pruneAuditLog(app.orm.em.fork() as EntityManager, app.config.auditRetentionDays);
    if (deleted) app.logger.info({ deleted }, 'pruned old audit entries');
  }, app);
}
