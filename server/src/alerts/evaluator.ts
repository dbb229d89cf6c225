/**
 * The alert evaluator. Every `ALERT_EVAL_INTERVAL_SECONDS` the one replica holding the
 * evaluator lock records the cluster's component health as `component_up` samples, then
 * checks every enabled rule against the latest sample of each service and instance:
 * a breach opens an alert (PENDING, FIRING once it held `forSeconds`), a clear resolves it.
 * The partial unique index keeps one open alert per rule and service even if leadership
 * changes hands in the middle of a tick.
 */
import type { AppServices } from '../app/context.js';
import { checkHealth, healthSignature } from '../health/service.js';
import type { EntityManager } from '../db/orm.js';
import { leadership } from '../db/leader.js';
import { mutate } from '../live/mutate.js';
import { repeat } from '../core/repeat.js';
import { textArray } from '../db/sql.js';
import { storeSamples } from '../metrics/ingest.js';
import * as rows from './rows.js';
import { breaches } from './rules.js';
import { fireAlert, openAlert, resolveAlert } from './state.js';
import { AlertStatus, type Alert, type AlertRule } from './types.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';
import { dispatchNotifications } from './routing/dispatch.js';

// Only samples this recent count: a service that stopped reporting does not keep an alert open.
const LOOKBACK_MS = 5 * 60_000;
export const COMPONENT_METRIC = 'component_up';

/** The worst breaching value: the highest for > and >=, the lowest for < and <=. */
function worst(rule: AlertRule, values: number[]): number {
  if (rule.comparator.startsWith('>')) return Math.max(...values);
  if (rule.comparator.startsWith('<')) return Math.min(...values);
  return values[0];
}

/** Latest value of each (metric, service, instance) within the lookback, by metric then service. */
async function latestValues(em: EntityManager, metrics: string[], now: Date): Promise<Map<string, Map<string, number[]>>> {
  const byMetric = new Map<string, Map<string, number[]>>();
  if (metrics.length === 0) return byMetric;
  const rows: Array<{ name: string; service: string; value: number }> = await em.execute(
    `select distinct on (name, service, instance) name, service, value from metrics
      where time > ? and name = any(?::text[])
      order by name, service, instance, time desc`,
    [new Date(now.getTime() - LOOKBACK_MS), textArray(metrics)],
  );
  for (const row of rows) {
    const services = byMetric.get(row.name) ?? new Map<string, number[]>();
    byMetric.set(row.name, services);
    services.set(row.service, [...(services.get(row.service) ?? []), Number(row.value)]);
  }
  return byMetric;
}

/** One evaluation of every rule; returns how many alerts changed. */
export async function evaluateRules(app: AppServices, now = new Date()): Promise<number> {
  const em = app.orm.em.fork() as EntityManager;
  const rules = await rows.enabledRules(em);
  const latest = await latestValues(em, [...new Set(rules.map((r) => r.metric))], now);
  return mutate({ em, app }, async (tx, record) => {
    let changes = 0;
    const open = new Map<string, Alert>();
    for (const alert of await rows.lockOpenAlerts(tx)) {
      open.set(`${alert.ruleId}\n${alert.service}`, alert);
    }
    const breached = new Set<string>();
    for (const rule of rules) {
      const services = latest.get(rule.metric) ?? new Map<string, number[]>();
      for (const [service, values] of services) {
        if (rule.service && rule.service !== service) continue;
        const breaching = values.filter((value) => breaches(rule.comparator, value, rule.threshold));
        if (breaching.length === 0) continue;
        const key = `${rule.id}\n${service}`;
        breached.add(key);
        const alert = open.get(key);
        const value = worst(rule, breaching);
        if (!alert) {
          if (await openAlert(tx, app.config, record, rule, service, value, now)) changes++;
        } else if (alert.status === AlertStatus.PENDING && now.getTime() - alert.startedAt.getTime() >= rule.forSeconds * 1000) {
          await fireAlert(tx, app.config, record, alert, rule, value, now);
          changes++;
        }
      }
    }
    const cleared = [...open].filter(([key]) => !breached.has(key)).map(([, alert]) => alert);
    if (cleared.length) {
      const ruleIds = [...new Set(cleared.map((a) => a.ruleId))];
      const ruleById = new Map((await rows.rulesByIds(tx, ruleIds)).map((rule, i) => [ruleIds[i], rule]));
      for (const alert of cleared) await resolveAlert(tx, app.config, record, alert, ruleById.get(alert.ruleId)!, now);
      changes += cleared.length;
    }
    return changes;
  });
}

/**
 * Starts trying to lead; while leading, each tick records component health (publishing it
 * when it changed), evaluates the rules and decides the notifications. `onChanges` hears when
 * messages were queued.
 */
export function startEvaluator(app: AppServices, directUrl: string, onChanges: () => void) {
  const lock = leadership(directUrl, ADVISORY_LOCKS.alertEvaluator, app.logger);
  let lastHealth = '';
  const job = repeat('alert-evaluator', app.config.alertEvalIntervalSeconds * 1000, async () => {
    if (!(await lock.isLeader())) return;
    const health = await checkHealth(app, app.healthChecks);
    const now = health.checkedAt;
    await storeSamples(app.orm.em.fork() as EntityManager, app.bus, health.components.map((c) => ({
      name: COMPONENT_METRIC, service: c.name, instance: app.config.instanceId, time: now, value: c.status === 'up' ? 1 : 0,
    })));
    const signature = healthSignature(health);
    if (signature !== lastHealth) {
      lastHealth = signature;
      app.bus.publish('health', { ...health, checkedAt: now.toISOString(), components: health.components.map((c) => ({ ...c, latencyMs: c.latencyMs ?? null, detail: c.detail ?? null })) });
    }
    await evaluateRules(app, now);
    if ((await dispatchNotifications(app, now)) > 0) onChanges();
  }, app);
  return {
    async stop() {
      await job.stop();
      await lock.release();
    },
  };
}
