/** Reading the audit log (ADMIN only), and keeping it to `AUDIT_RETENTION_DAYS`. */
import type { AppServices, Context } from '../app/context.js';
import { idOf } from '../core/ids.js';
import { repeat } from '../core/repeat.js';
import { requireRole, Role } from '../core/viewer.js';
import { inTransaction, type EntityManager } from '../db/orm.js';
import { connectionOf, decodeCursor, keysetPage, pageSize } from '../db/pagination.js';
import { asInstance, toDate } from '../db/sql.js';
import { mayRead } from '../graphql/selection.js';
import { AuditEntry, type AuditEntryConnection, type AuditLogArgs } from './types.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';

const RETENTION_PERIOD_MS = 60 * 60_000;

function entryFromRow(row: Record<string, any>): AuditEntry {
  return asInstance(AuditEntry, {
    id: row.id, at: toDate(row.at), actorId: row.actor_id, credential: row.credential, action: row.action,
    targetId: row.target_id, ip: row.ip, details: row.details,
  });
}

/** Newest first, filtered by who, what and on what. */
export async function listAuditLog(ctx: Context, args: AuditLogArgs): Promise<AuditEntryConnection> {
  requireRole(ctx.viewer, Role.ADMIN);
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor('audit', args.after) : null;
  const filters: string[] = [];
  const params: unknown[] = [];
  if (args.actorId) {
    filters.push('actor_id = ?');
    params.push(idOf('User', args.actorId));
  }
  if (args.action) {
    filters.push('action = ?');
    params.push(args.action);
  }
  if (args.targetId) {
    filters.push('target_id = ?');
    params.push(args.targetId);
  }
  const count = mayRead(ctx.operation.selected, 'AuditEntryConnection', 'totalCount');
  const page = await keysetPage(ctx.read, { table: 'audit_log', timeColumn: 'at', filters, params, first, after, count });
  return connectionOf('audit', page.rows.map(entryFromRow), (entry) => entry.at, page, after);
}

/** One entry by its database id, for `node(id:)`: null unless the viewer is an ADMIN. */
export async function auditEntry(ctx: Context, id: string): Promise<AuditEntry | null> {
  if (ctx.viewer?.role !== Role.ADMIN) return null;
  const [row] = await ctx.read.execute('select * from audit_log where id = ?', [id]);
  return row ? entryFromRow(row) : null;
}

/** Deletes entries past retention; null when another replica is pruning right now. */
export async function pruneAuditLog(em: EntityManager, retentionDays: number): Promise<number | null> {
  return inTransaction(em, async (tx) => {
    const [{ locked }] = await tx.execute('select pg_try_advisory_xact_lock(?) as locked', [ADVISORY_LOCKS.auditRetention]);
    if (!locked) return null;
    const deleted = await tx.execute('delete from audit_log where at < now() - make_interval(days => ?)', [retentionDays], 'run');
    return (deleted as unknown as { affectedRows: number }).affectedRows;
  });
}

export function startAuditRetention(app: AppServices) {
  return repeat('audit-retention', RETENTION_PERIOD_MS, async () => {
    const deleted = await pruneAuditLog(app.orm.em.fork() as EntityManager, app.config.auditRetentionDays);
    if (deleted) app.logger.info({ deleted }, 'pruned old audit entries');
  }, app);
}
