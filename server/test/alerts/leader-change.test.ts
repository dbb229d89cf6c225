/**
 * Exactly once across a leader change: two real server processes over Redis on one database;
 * the evaluator leader is SIGKILLed while a notification group waits (its state committed,
 * its message not yet decided), and later the next leader while the changed group waits out
 * its interval. A real HTTP receiver must get each of the group's messages exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** db/advisory-locks.ts alertEvaluator */
const EVALUATOR_LOCK = 7_316_041;
const GROUP_WAIT = 6;
const GROUP_INTERVAL = 6;

describeRedis('notifications across a leader change', () => {
  let database: TestDatabase;
  let direct: pg.Client;
  let receiver: HttpReceiver;
  let dataDir: string;
  let env: Record<string, string>;
  const replicas: ServerProcess[] = [];

  /** The backend pid holding the evaluator lock, or null. */
  const lockHolder = async (): Promise<number | null> => (await direct.query(
    `select pid from pg_locks where locktype = 'advisory' and objid = $1 and granted and database = (select oid from pg_database where datname = current_database())`,
    [EVALUATOR_LOCK],
  )).rows[0]?.pid ?? null;
  const gql = async (replica: ServerProcess, query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${replica.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${replica.adminToken}` }, body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const push = (replica: ServerProcess, services: string[]) =>
    gql(replica, 'mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: services.map((service) => ({ name: 'handover_latency', service, value: 9 })) });
  const messages = () => receiver.received.filter((r) => r.path === '/oncall').map((r) => ({ id: r.headers['x-notification-id'], ...JSON.parse(r.body) }));
  const groupRow = async () => (await direct.query('select notified_alert_ids, next_flush_at from notification_groups where group_key like $1', ['%{rule="handover"}'])).rows[0];
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    database = await createTestDatabase();
    direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    receiver = await startHttpReceiver();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wf-leader-change-'));
    env = {
      ...redisEnv(), ALERT_EVAL_INTERVAL_SECONDS: '1', SAMPLE_INTERVAL_SECONDS: '3600', DATA_DIR: dataDir,
      SECRETS_KEY: 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
    };
    replicas.push(await startServerProcess({ ...env, INSTANCE_ID: 'replica-1' }, { database }));
    // Started second, once the first leads: which one leads is known.
    await waitFor('the first replica to lead', async () => (await lockHolder()) !== null);
    replicas.push(await startServerProcess({ ...env, INSTANCE_ID: 'replica-2' }, { database }));
  }, 90_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await direct?.end();
    await receiver?.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('should send each message of a group exactly once when the leader is SIGKILLed mid-group', async () => {
    const [first, second] = replicas;
    const { createContactPoint: point } = await gql(second, `mutation { createContactPoint(input: { name: "on-call", kind: WEBHOOK, settings: { url: "${receiver.url}/oncall" } }) { id } }`);
    await gql(second, `mutation ($input: NotificationRouteInput!) { createNotificationRoute(input: $input) { id } }`, {
      input: { matchers: [{ label: 'rule', op: '=', value: 'handover' }], contactPointIds: [point.id], groupBy: ['rule'], groupWaitSeconds: GROUP_WAIT, groupIntervalSeconds: GROUP_INTERVAL },
    });
    await gql(second, 'mutation { createAlertRule(input: { name: "handover", metric: "handover_latency", comparator: ">", threshold: 1, severity: HIGH }) { id } }');
    const services = Array.from({ length: 20 }, (_, i) => `svc-${i}`);
    await push(second, services);

    // The leader formed the group (its row is committed) and waits out the group wait: kill it now.
    const waiting = await waitFor('the group formed', async () => {
      const row = await groupRow();
      return row && new Date(row.next_flush_at).getTime() - Date.now() > 2000 ? row : null;
    }, 15_000);
    expect(waiting.notified_alert_ids).toEqual([]);
    expect(messages()).toEqual([]);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor('the second replica to lead', async () => (await lockHolder()) !== null, 15_000);

    await waitFor('the group message', async () => messages().length >= 1, 20_000);
    // Samples keep arriving for every service (the lookback), so no alert resolves meanwhile.
    await push(second, services);
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toMatchObject({ event: 'FIRING', reason: 'first', groupLabels: { rule: 'handover' } });
    expect(messages()[0].alerts).toHaveLength(20);

    // A third replica joins; the group changes; the new leader is killed while the group waits out its interval.
    replicas.push(await startServerProcess({ ...env, INSTANCE_ID: 'replica-3' }, { database }));
    const third = replicas[2];
    const more = ['svc-20', 'svc-21', 'svc-22', 'svc-23', 'svc-24'];
    // Right after a look at the group, so the change is still undecided when the leader dies.
    await waitFor('a fresh group interval', async () => new Date((await groupRow()).next_flush_at).getTime() - Date.now() > GROUP_INTERVAL * 1000 - 1500, 20_000);
    await push(third, [...services, ...more]);
    await waitFor('the new alerts open', async () => (await direct.query(`select count(*)::int as n from alerts where status = 'FIRING'`)).rows[0].n === 25, 15_000);
    expect(new Date((await groupRow()).next_flush_at).getTime()).toBeGreaterThan(Date.now());
    expect(messages()).toHaveLength(1);
    second.child.kill('SIGKILL');
    await second.exited;
    await waitFor('the third replica to lead', async () => (await lockHolder()) !== null, 15_000);
    await waitFor('the changed group message', async () => messages().length >= 2, 30_000);
    await push(third, [...services, ...more]);
    // Longer than a group interval: nothing more comes (no repeat is due for hours).
    await pause((GROUP_INTERVAL + 3) * 1000);

    const sent = messages();
    expect(sent.map((m) => [m.reason, m.alerts.length])).toEqual([['first', 20], ['changed', 25]]);
    expect(new Set(sent.map((m) => m.id)).size).toBe(2);
    const rows = (await direct.query(`select status, attempts from alert_notifications where group_key like '%{rule="handover"}' order by created_at`)).rows;
    expect(rows).toEqual([{ status: 'DELIVERED', attempts: 1 }, { status: 'DELIVERED', attempts: 1 }]);
  }, 150_000);
});
