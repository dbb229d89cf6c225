import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let database: TestDatabase;
let receiver: HttpReceiver;
let a: TestServer;
let b: TestServer;

const env = (instance: string) => ({
  INSTANCE_ID: instance,
  ALERT_EVAL_INTERVAL_SECONDS: '1',
  ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0',
  ALERT_DEFAULT_GROUP_INTERVAL_SECONDS: '1',
  SAMPLE_INTERVAL_SECONDS: '1',
  // deliveries queued while no replica ran are the delivery poll's
  ALERT_DELIVERY_INTERVAL_MS: '1000',
  ALERT_WEBHOOK_URL: `${receiver.url}/hook`,
});

beforeAll(async () => {
  database = await createTestDatabase();
  receiver = await startHttpReceiver();
  a = await startTestServer(env('replica-a'), database);
  b = await startTestServer(env('replica-b'), database);
});
afterAll(async () => {
  await a?.app.stop().catch(() => undefined);
  await b?.app.stop().catch(() => undefined);
  await receiver?.close();
  await database?.drop();
});

const sql = (query: string, params: unknown[] = []) => b.app.orm.em.fork().execute(query, params);

describe('two replicas on one database', () => {
  it('should open exactly one alert per rule and service, and let exactly one replica evaluate', async () => {
    const { createAlertRule: rule } = await a.gqlOk(
      'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
      { input: { name: 'shared', metric: 'shared_metric', comparator: '>=', threshold: 1, severity: 'LOW' } },
      a.adminToken,
    );
    const services = ['s1', 's2', 's3', 's4'];
    // Both replicas receive breaches, over several evaluation rounds.
    for (let round = 0; round < 3; round++) {
      for (const [i, server] of [a, b].entries()) {
        await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', {
          s: services.map((service) => ({ name: 'shared_metric', service, value: 5 + round + i })),
        }, server.adminToken);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const ruleId = Buffer.from(rule.id, 'base64url').toString().split(':')[1];
    await waitFor('an alert for every service', async () =>
      (await sql('select count(*)::int as n from alerts where rule_id = ?', [ruleId]))[0].n === services.length);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rows = await sql('select service, status from alerts where rule_id = ? order by service', [ruleId]);
    expect(rows).toEqual(services.map((service) => ({ service, status: 'FIRING' })));
    const events = await sql(`select count(*)::int as n from events where topic = 'alert' and payload->>'ruleId' = ?`, [ruleId]);
    expect(events[0].n).toBe(services.length);
    const notifications = await sql('select count(*)::int as n from alert_notifications n join alerts a on a.id = any(n.alert_ids) where a.rule_id = ?', [ruleId]);
    expect(notifications[0].n).toBe(services.length);
    // Advisory locks are per database; other test files' servers hold theirs in theirs.
    const leaders = await sql(`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 7316041 and granted
      and database = (select oid from pg_database where datname = current_database())`);
    expect(leaders[0].n).toBe(1);
  });

  it('should raise the CRITICAL component alert for a replica that stopped sending heartbeats', async () => {
    // A replica that crashed leaves its last heartbeat behind.
    await sql(`insert into heartbeats (instance, last_seen_at) values ('replica-ghost', now() - interval '1 hour')`);
    const { health } = await a.gqlOk('{ health { status components { name status detail } } }', {}, a.adminToken);
    expect(health.status).toBe('degraded');
    expect(health.components).toEqual(expect.arrayContaining([
      { name: 'replica:replica-a', status: 'up', detail: null },
      { name: 'replica:replica-b', status: 'up', detail: null },
      expect.objectContaining({ name: 'replica:replica-ghost', status: 'down' }),
    ]));
    const ready = await fetch(`${a.url}/api/ready`);
    expect(ready.status).toBe(200);

    const alert = await waitFor('the component alert', async () => {
      const [row] = await sql(`select a.* from alerts a join alert_rules r on r.id = a.rule_id
        where r.metric = 'component_up' and a.service = 'replica:replica-ghost'`);
      return row;
    });
    expect(alert).toMatchObject({ status: 'FIRING', severity: 'CRITICAL', value: 0 });

    // The replica comes back: the alert resolves.
    await sql(`update heartbeats set last_seen_at = now() + interval '1 minute' where instance = 'replica-ghost'`);
    await waitFor('the component alert resolved', async () =>
      (await sql('select status from alerts where id = ?', [alert.id]))[0].status === 'RESOLVED');
    await sql(`delete from heartbeats where instance = 'replica-ghost'`);
  });

  it('should hand evaluation over when the leader stops, and deliver queued notifications after a restart', async () => {
    receiver.setDown(true);
    const { createAlertRule: rule } = await b.gqlOk(
      'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
      { input: { name: 'handover', metric: 'handover_metric', comparator: '>', threshold: 0, severity: 'MEDIUM' } },
      b.adminToken,
    );
    const ruleId = Buffer.from(rule.id, 'base64url').toString().split(':')[1];
    await b.gqlOk('mutation { recordMetrics(samples: [{ name: "handover_metric", service: "h", value: 1 }]) }', {}, b.adminToken);
    await waitFor('a failed delivery', async () =>
      (await sql(`select n.attempts from alert_notifications n join alerts a on a.id = any(n.alert_ids) where a.rule_id = ? and n.attempts >= 1`, [ruleId])).length === 1);

    // Both replicas stop; one comes back after the receiver did.
    await a.app.stop();
    await b.app.stop();
    receiver.setDown(false);
    const before = receiver.received.length;
    a = await startTestServer(env('replica-a2'), database);
    await waitFor('delivery after the restart', async () =>
      (await a.app.orm.em.fork().execute(`select n.status from alert_notifications n join alerts a on a.id = any(n.alert_ids) where a.rule_id = ?`, [ruleId]))[0]?.status === 'DELIVERED', 20_000);
    const delivered = receiver.received.slice(before).map((r) => JSON.parse(r.body)).filter((m) => m.alerts[0].rule.name === 'handover');
    expect(delivered).toHaveLength(1);

    // The new replica evaluates: clearing the condition resolves the alert.
    await a.gqlOk('mutation { recordMetrics(samples: [{ name: "handover_metric", service: "h", value: 0 }]) }', {}, a.adminToken);
    await waitFor('resolved by the new leader', async () =>
      (await a.app.orm.em.fork().execute(`select status from alerts where rule_id = ?`, [ruleId]))[0].status === 'RESOLVED');
    b = a;
  });
});
