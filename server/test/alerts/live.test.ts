/**
 * `metricSampled`, `alertEvents` and `healthChanged` over real graphql-ws sockets, with two
 * replicas on one database: once with the in-process bus (each replica hears only itself)
 * and once with Redis pub/sub (news cross replicas).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, until, type LiveClient } from '../support/live.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

const METRIC_SAMPLED = `subscription ($names: [String!], $service: String) {
  metricSampled(names: $names, service: $service) { name service instance value time } }`;
const ALERT_EVENTS = 'subscription ($after: String) { alertEvents(after: $after) { cursor kind alert { id status value rule { name } } } }';
const HEALTH_CHANGED = 'subscription { healthChanged { status instance checkedAt components { name status } } }';

function liveSuite(mode: 'in-process' | 'redis', env: () => Record<string, string>) {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let member: string;
  const clients: LiveClient[] = [];
  const open = (server: TestServer, token?: string) => {
    const client = connect(server.url, { token });
    clients.push(client);
    return client;
  };
  const push = (server: TestServer, samples: Array<Record<string, unknown>>) =>
    server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: samples }, server.adminToken);

  beforeAll(async () => {
    database = await createTestDatabase();
    const shared = env();
    a = await startTestServer({ ...shared, INSTANCE_ID: `${mode}-a`, ALERT_EVAL_INTERVAL_SECONDS: '1' }, database);
    b = await startTestServer({ ...shared, INSTANCE_ID: `${mode}-b`, ALERT_EVAL_INTERVAL_SECONDS: '1' }, database);
    member = (await a.newUser('MEMBER')).token;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await a?.app.stop();
    await b?.app.stop();
    await database?.drop();
  });

  describe(`live monitoring (${mode} bus)`, () => {
    it('should close a socket without credentials with 4401, whatever it subscribes to', async () => {
      for (const query of [METRIC_SAMPLED, ALERT_EVENTS, HEALTH_CHANGED]) {
        const client = open(a);
        await client.subscribe(query).done();
        expect(client.closed[0]?.code).toBe(4401);
      }
    });

    it('should push the samples of the names and service asked for, as they are stored', async () => {
      const subscription = open(a, member).subscribe<any>(METRIC_SAMPLED, { names: ['live_a', 'live_b'], service: 'svc' });
      // The subscription is live once a sample pushed to the same replica arrives.
      await until(async () => {
        await push(a, [{ name: 'live_a', service: 'svc', value: -1 }]);
        return subscription.values.length > 0;
      }, 'the subscription to start');
      const seen = subscription.values.length;
      const server = mode === 'redis' ? b : a;
      await push(server, [
        { name: 'live_a', service: 'svc', value: 1, instance: 'h1' },
        { name: 'live_c', service: 'svc', value: 2 },
        { name: 'live_b', service: 'other', value: 3 },
        { name: 'live_b', service: 'svc', value: 4 },
      ]);
      const values = (await subscription.take(seen + 2)).slice(seen).map((v) => v.metricSampled);
      expect(values.map((p) => [p.name, p.service, p.instance, p.value])).toEqual([['live_a', 'svc', 'h1', 1], ['live_b', 'svc', null, 4]]);
      expect(Date.parse(values[0].time)).not.toBeNaN();
    });

    it('should push alert changes, and replay them from a cursor', async () => {
      await a.gqlOk(
        'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
        { input: { name: `live ${mode}`, metric: 'live_alert', comparator: '>', threshold: 10, severity: 'HIGH' } },
        a.adminToken,
      );
      const before = a.app.services.feed.streamCount();
      const live = open(a, member).subscribe<any>(ALERT_EVENTS);
      await until(() => a.app.services.feed.streamCount() > before, 'the subscription to start');
      await push(b, [{ name: 'live_alert', service: 'svc', value: 50 }]);
      const [fired] = await live.take(1);
      expect(fired.alertEvents).toMatchObject({ kind: 'FIRING', alert: { status: 'FIRING', value: 50, rule: { name: `live ${mode}` } } });
      await b.gqlOk('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: fired.alertEvents.alert.id }, member);
      await push(a, [{ name: 'live_alert', service: 'svc', value: 1 }]);
      const events = await live.take(3);
      expect(events.map((e) => e.alertEvents.kind)).toEqual(['FIRING', 'ACKNOWLEDGED', 'RESOLVED']);
      const cursors = events.map((e) => BigInt(e.alertEvents.cursor.replace(/^alert:/, '')));
      expect(cursors).toEqual([...cursors].sort((x, y) => (x < y ? -1 : 1)));

      const resumed = open(b, member).subscribe<any>(ALERT_EVENTS, { after: events[0].alertEvents.cursor });
      const replayed = await resumed.take(2);
      expect(replayed.map((e) => [e.alertEvents.kind, e.alertEvents.cursor])).toEqual(events.slice(1).map((e) => [e.alertEvents.kind, e.alertEvents.cursor]));
      expect(replayed[0].alertEvents.alert.status).toBe('RESOLVED');
    });

    it('should answer a bad cursor with BAD_USER_INPUT', async () => {
      const subscription = open(a, member).subscribe(ALERT_EVENTS, { after: 'yesterday' });
      await subscription.done();
      expect(subscription.errors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    });

    it('should push the current health, then a change when a replica goes down', async () => {
      // Subscribed on both replicas: with Redis, either one's subscribers hear the leader.
      const subscriptions = [open(a, member).subscribe<any>(HEALTH_CHANGED), open(b, member).subscribe<any>(HEALTH_CHANGED)];
      for (const s of subscriptions) {
        const [first] = await s.take(1);
        expect(first.healthChanged.components.map((c: any) => c.name)).toEqual(expect.arrayContaining(['api', 'database', `replica:${mode}-a`, `replica:${mode}-b`]));
      }
      // Older than three sample intervals (an hour each here): down.
      await a.app.orm.em.fork().execute(`insert into heartbeats (instance, last_seen_at) values (?, now() - interval '5 hours')`, [`${mode}-ghost`]);
      const down = (s: { values: any[] }) => s.values.find((v) => v.healthChanged.components.some((c: any) => c.name === `replica:${mode}-ghost` && c.status === 'down'));
      if (mode === 'redis') {
        await until(() => subscriptions.every((s) => down(s)), 'both replicas to hear the change');
      } else {
        await until(() => subscriptions.some((s) => down(s)), 'the leader\'s subscriber to hear the change');
      }
      const change = subscriptions.map(down).find(Boolean);
      expect(change.healthChanged.status).toBe('degraded');
      await a.app.orm.em.fork().execute('delete from heartbeats where instance = ?', [`${mode}-ghost`]);
    });
  });
}

liveSuite('in-process', () => ({}));

describeRedis('with Redis', () => {
  liveSuite('redis', () => redisEnv());
});
