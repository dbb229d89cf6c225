/**
 * The notification dispatcher, Alertmanager's dispatch and dedup stages over PostgreSQL. It
 * runs on the evaluator leader after each evaluation, in one transaction that also queues
 * the messages it decides in the outbox:
 *
 * - every open, FIRING or ACKNOWLEDGED alert that nothing mutes is routed: routes are tried in
 *   position order, the first that matches takes it (and the next ones too while `continue`);
 *   none: the default policy (every enabled contact point). Its route and the values of the
 *   route's `groupBy` labels name its notification group;
 * - a new group speaks `groupWaitSeconds` after it formed, then looks again every
 *   `groupIntervalSeconds`: it speaks when it has alerts its last message did not name, when
 *   some of those resolved, and every `repeatIntervalSeconds` while one is unacknowledged;
 * - PagerDuty hears ACKNOWLEDGED once every firing alert of a group is acknowledged, and the
 *   route's `escalateTo` hears of a group still unacknowledged `escalateAfterSeconds` after
 *   its first message.
 *
 * What each group last said is a row (`notification_groups`), changed in the same transaction
 * as the messages it queues: a leader that dies mid-way commits both or neither, and the next
 * leader decides from what was committed. A transaction advisory lock keeps a leader that lost
 * its lock but is still mid-tick from deciding beside the new one.
 */
import type { AppServices } from '../../app/context.js';
import { ADVISORY_LOCKS } from '../../db/advisory-locks.js';
import type { EntityManager } from '../../db/orm.js';
import { toDate, uuidArray } from '../../db/sql.js';
import { mutate } from '../../live/mutate.js';
import { alertFromRow, ruleFromRow } from '../rows.js';
import type { Labels } from '../labels.js';
import { groupMessage, messageAlert, type MessageAlert, type NotificationReason } from '../notifications/message.js';
import { enqueueGroupMessage } from '../notifications/outbox.js';
import { AlertStatus, type Alert, type AlertRule } from '../types.js';
import { loadMuting, type MutedAlert } from './muting.js';
import { routeFromRow } from './rows.js';
import { defaultPolicy, groupKeyOf, policyOf, routesFor, type Policy } from './policy.js';

interface GroupRow {
  id: string;
  groupKey: string;
  routeId: string | null;
  labels: Labels;
  nextFlushAt: Date;
  notifiedAt: Date | null;
  notifiedAlertIds: string[];
  firstNotifiedAt: Date | null;
  acknowledgedSent: boolean;
  escalatedAt: Date | null;
}

function groupFromRow(row: Record<string, any>): GroupRow {
  return {
    id: row.id,
    groupKey: row.group_key,
    routeId: row.route_id,
    labels: row.labels,
    nextFlushAt: toDate(row.next_flush_at),
    notifiedAt: toDate(row.notified_at),
    notifiedAlertIds: row.notified_alert_ids ?? [],
    firstNotifiedAt: toDate(row.first_notified_at),
    acknowledgedSent: row.acknowledged_sent,
    escalatedAt: toDate(row.escalated_at),
  };
}

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
const at = (now: Date, afterSeconds: number) => new Date(now.getTime() + afterSeconds * 1000);

interface Member {
  policy: Policy;
  labels: Labels;
  alerts: Alert[];
}

/** One decision round; returns how many messages were queued. */
export async function dispatchNotifications(app: AppServices, now = new Date()): Promise<number> {
  const em = app.orm.em.fork() as EntityManager;
  return mutate({ em, app }, async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(?)', [ADVISORY_LOCKS.notificationDispatch]);
    const fallback = defaultPolicy(app.config);
    const policies: Policy[] = (await tx.execute('select * from notification_routes order by position')).map((row: Record<string, unknown>) => policyOf(routeFromRow(row)));
    const policyById = new Map(policies.map((p) => [p.route!.id, p]));
    const open = (await tx.execute(`select * from alerts where status in ('FIRING', 'ACKNOWLEDGED')`)).map(alertFromRow);
    const muting = await loadMuting(tx, now);
    const sources: MutedAlert[] = open.map((a) => ({ id: a.id, labels: a.labels, firing: true }));

    const members = new Map<string, Member>();
    for (const alert of open) {
      if (muting.muted({ id: alert.id, labels: alert.labels, firing: true }, sources)) continue;
      for (const policy of routesFor(policies, fallback, alert.labels)) {
        const { key, labels } = groupKeyOf(policy, alert.labels);
        const member = members.get(key) ?? { policy, labels, alerts: [] };
        member.alerts.push(alert);
        members.set(key, member);
      }
    }

    const groups = new Map<string, GroupRow>();
    for (const row of await tx.execute('select * from notification_groups')) groups.set(row.group_key, groupFromRow(row));
    for (const [key, member] of members) {
      if (groups.has(key)) continue;
      const [row] = await tx.execute(
        'insert into notification_groups (group_key, route_id, labels, next_flush_at) values (?, ?, ?::jsonb, ?) returning *',
        [key, member.policy.route?.id ?? null, JSON.stringify(member.labels), at(now, member.policy.groupWaitSeconds)],
      );
      groups.set(key, groupFromRow(row));
    }

    // The alerts the groups last named that are not open any more (resolved since), and every rule involved.
    const openIds = new Set(open.map((a) => a.id));
    const gone = [...new Set([...groups.values()].flatMap((g) => g.notifiedAlertIds).filter((id) => !openIds.has(id)))];
    const closed = gone.length ? (await tx.execute('select * from alerts where id = any(?::uuid[])', [uuidArray(gone)])).map(alertFromRow) : [];
    const alertById = new Map([...open, ...closed].map((a) => [a.id, a]));
    const ruleIds = [...new Set([...alertById.values()].map((a) => a.ruleId))];
    const rules = ruleIds.length ? (await tx.execute('select * from alert_rules where id = any(?::uuid[])', [uuidArray(ruleIds)])).map(ruleFromRow) : [];
    const ruleById = new Map<string, AlertRule>(rules.map((r: AlertRule) => [r.id, r]));
    const shown = (alert: Alert): MessageAlert => messageAlert(alert, ruleById.get(alert.ruleId)!);

    let queued = 0;
    for (const group of groups.values()) {
      const policy = group.routeId ? policyById.get(group.routeId) : fallback;
      if (!policy) continue;
      const firing = members.get(group.groupKey)?.alerts ?? [];
      const firingIds = new Set(firing.map((a) => a.id));
      const unacknowledged = firing.some((a) => a.status === AlertStatus.FIRING);
      const contactPointIds = policy.route?.contactPointIds ?? null;
      const send = async (event: 'FIRING' | 'RESOLVED' | 'ACKNOWLEDGED', reason: NotificationReason, resolved: Alert[], to = contactPointIds) => {
        const message = groupMessage(event, reason, group.groupKey, group.labels, firing.map(shown), resolved.map(shown));
        const sent = await enqueueGroupMessage(tx, to, message, [...firing, ...resolved].map((a) => a.id));
        // The log hears every decision, also where a route sends nowhere (the guide's "only logged").
        app.logger.info({ groupKey: group.groupKey, event, reason, alerts: firing.length + resolved.length, contactPoints: sent }, 'alert group notified');
        queued += sent;
      };
      let { notifiedAlertIds: notifiedIds, notifiedAt, firstNotifiedAt, acknowledgedSent, escalatedAt, nextFlushAt } = group;

      if (now >= group.nextFlushAt) {
        const last = group.notifiedAlertIds;
        const resolved = last.map((id) => alertById.get(id)).filter((a): a is Alert => a?.status === AlertStatus.RESOLVED);
        const added = firing.some((a) => !last.includes(a.id));
        let reason: NotificationReason | null = null;
        if (added) reason = last.length === 0 ? 'first' : 'changed';
        else if (resolved.length) reason = firing.length ? 'changed' : 'resolved';
        else if (firing.length && unacknowledged && notifiedAt && seconds(notifiedAt, now) >= policy.repeatIntervalSeconds) reason = 'repeat';
        if (reason) {
          await send(firing.length ? 'FIRING' : 'RESOLVED', reason, resolved);
          notifiedAt = now;
          notifiedIds = [...firingIds];
          // A group that resolved starts over: a new first message, a new escalation clock.
          firstNotifiedAt = firing.length ? (firstNotifiedAt ?? now) : null;
          if (!firing.length) escalatedAt = null;
          if (added) acknowledgedSent = false;
        } else {
          // Muted or routed elsewhere since: forgotten without a word, so un-muting speaks again.
          notifiedIds = last.filter((id) => firingIds.has(id));
        }
        nextFlushAt = at(now, policy.groupIntervalSeconds);
        if (!firing.length && notifiedIds.length === 0) {
          await tx.execute('delete from notification_groups where id = ?', [group.id]);
          continue;
        }
      }

      if (notifiedIds.length && firing.length && !unacknowledged && !acknowledgedSent) {
        await send('ACKNOWLEDGED', 'acknowledged', []);
        acknowledgedSent = true;
      }
      const route = policy.route;
      if (route?.escalateAfterSeconds && firstNotifiedAt && !escalatedAt && unacknowledged && seconds(firstNotifiedAt, now) >= route.escalateAfterSeconds) {
        await send('FIRING', 'escalation', [], route.escalateToIds);
        escalatedAt = now;
      }
      const after = { notifiedAlertIds: notifiedIds, notifiedAt, firstNotifiedAt, acknowledgedSent, escalatedAt, nextFlushAt };
      if (Object.entries(after).some(([name, value]) => value !== group[name as keyof GroupRow])) {
        await tx.execute(
          `update notification_groups set notified_alert_ids = ?::uuid[], notified_at = ?, first_notified_at = ?, acknowledged_sent = ?,
                  escalated_at = ?, next_flush_at = ? where id = ?`,
          [uuidArray(notifiedIds), notifiedAt, firstNotifiedAt, acknowledgedSent, escalatedAt, nextFlushAt, group.id],
        );
      }
    }
    return queued;
  });
}
