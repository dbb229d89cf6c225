/** The "a component down" default rule with a real Redis that goes away and comes back. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRedis, ThrowawayRedis, uniqueRedisPrefix } from '../support/redis.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

describeRedis('component health', () => {
  let redis: ThrowawayRedis;
  let receiver: HttpReceiver;
  let server: TestServer;

  beforeAll(async () => {
    redis = await ThrowawayRedis.start();
    receiver = await startHttpReceiver();
    server = await startTestServer({
      REDIS_URL: redis.url,
      REDIS_PREFIX: uniqueRedisPrefix(),
      ALERT_EVAL_INTERVAL_SECONDS: '1',
      ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0',
      ALERT_DEFAULT_GROUP_INTERVAL_SECONDS: '1',
      ALERT_WEBHOOK_URL: receiver.url,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.kill();
    await receiver?.close();
  });

  const redisAlert = async () => {
    const [row] = await server.app.orm.em.fork().execute(
      `select a.status, a.severity from alerts a join alert_rules r on r.id = a.rule_id
        where r.metric = 'component_up' and a.service = 'redis' order by a.started_at desc limit 1`);
    return row;
  };

  it('should raise a CRITICAL alert while Redis is down, notify, and resolve it when Redis is back', async () => {
    await redis.kill();
    const firing = await waitFor('the Redis alert', async () => ((await redisAlert())?.status === 'FIRING' ? redisAlert() : null), 20_000);
    expect(firing.severity).toBe('CRITICAL');
    const { health } = await server.gqlOk('{ health { status components { name status } } }', {}, server.adminToken);
    expect(health.status).toBe('degraded');
    expect(health.components).toContainEqual({ name: 'redis', status: 'down' });

    await redis.restart();
    await waitFor('the Redis alert resolved', async () => (await redisAlert()).status === 'RESOLVED', 20_000);
    await waitFor('both notifications', async () => receiver.received.length >= 2, 20_000);
    const events = receiver.received.map((r) => JSON.parse(r.body)).filter((m) => m.alerts[0].service === 'redis').map((m) => m.event);
    expect(events).toEqual(['FIRING', 'RESOLVED']);
  });
});
