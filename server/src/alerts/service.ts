/** Alerts as people see them: the paged list, acknowledging and resolving by hand. */
import type { Context } from '../app/context.js';
import { requireViewer, requireWriter } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { conflict, notFound } from '../core/errors.js';
import { mutate } from '../live/mutate.js';
import { connectionOf, decodeCursor, pageSize } from '../db/pagination.js';
import { mayRead } from '../graphql/selection.js';
import * as rows from './rows.js';
import { acknowledgeAlert as acknowledge, resolveAlert as resolve } from './state.js';
import { AlertStatus, type Alert, type AlertConnection, type AlertsArgs } from './types.js';

/** Newest first; `totalCount` counts every match, not just this page. */
export async function listAlerts(ctx: Context, args: AlertsArgs): Promise<AlertConnection> {
  requireViewer(ctx.viewer);
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor('alerts', args.after) : null;
  const count = mayRead(ctx.operation.selected, 'AlertConnection', 'totalCount');
  const page = await rows.alertsPage(ctx.read, args.status, { first, after, count });
  const alerts = page.rows;
  for (const alert of alerts) ctx.loaders.alertById.prime(alert.id, alert);
  return connectionOf('alerts', alerts, (alert) => alert.startedAt, page, after);
}

async function lockAlert(tx: EntityManager, id: string): Promise<Alert> {
  const alert = await rows.lockAlertRow(tx, id);
  if (!alert) throw notFound('Alert');
  return alert;
}

/** A person takes a FIRING alert on; it stays open until the condition clears or they resolve it. */
export async function acknowledgeAlert(ctx: Context, id: string): Promise<Alert> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const alert = await lockAlert(tx, id);
    if (alert.status !== AlertStatus.FIRING) throw conflict(`Cannot acknowledge an alert that is ${alert.status}`);
    return acknowledge(tx, record, alert, viewer.id);
  });
}

/** Closes an open alert by hand; if the condition still holds, the evaluator opens a new one. */
export async function resolveAlert(ctx: Context, id: string): Promise<Alert> {
  requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const alert = await lockAlert(tx, id);
    if (alert.status === AlertStatus.RESOLVED) throw conflict('The alert is already RESOLVED');
    const [rule] = await rows.rulesByIds(tx, [alert.ruleId]);
    return resolve(tx, ctx.app.config, record, alert, rule!, new Date());
  });
}
