/**
 * Revoking a credential closes the sockets signed in with it at once (4403), on the replica
 * that revoked it and, through Redis, on the others — not at the next periodic re-check,
 * which these servers only do every ten minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, until, WORKFLOW_EVENTS, type LiveClient } from '../support/live.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';

const NO_RECHECK = { WS_CREDENTIAL_RECHECK_MS: '600000' };

function revocationSuite(mode: 'one replica' | 'two replicas over Redis', env: () => Record<string, string>) {
  let here: TestServer;
  let there: TestServer;
  const clients: LiveClient[] = [];
  /** A socket on `here`, subscribed and running. */
  const liveSocket = async (token: string) => {
    const before = here.app.services.feed.streamCount();
    const client = connect(here.url, { token });
    clients.push(client);
    const subscription = client.subscribe(WORKFLOW_EVENTS);
    await until(() => here.app.services.feed.streamCount() > before, 'the subscription to start');
    return { client, subscription };
  };

  beforeAll(async () => {
    const settings = { ...NO_RECHECK, ...env() };
    here = await startTestServer(settings);
    there = mode === 'one replica' ? here : await startTestServer(settings, here.database);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    if (there !== here) await there?.stop();
    await here?.stop();
  });

  describe(`revocation closes sockets at once (${mode})`, () => {
    it('should close the sockets of a session that signs out, and only those', async () => {
      const user = await here.newUser('MEMBER');
      const otherSession = await here.login(user.email, 'password-123');
      const [signedOut, sameUserOtherSession] = [await liveSocket(user.token), await liveSocket(otherSession)];
      await there.gqlOk('mutation { signOut }', {}, user.token);
      await signedOut.subscription.done(5_000);
      expect(signedOut.client.closed[0]?.code).toBe(4403);
      expect(sameUserOtherSession.client.closed).toEqual([]);
      expect(sameUserOtherSession.subscription.completed).toBe(false);
    });

    it('should close the sockets of an API token revoked elsewhere', async () => {
      const user = await here.newUser('VIEWER');
      const token = (await here.gqlOk('mutation { createApiToken(name: "live") }', {}, user.token)).createApiToken;
      const live = [await liveSocket(token), await liveSocket(token)];
      const { id } = (await there.gqlOk('{ apiTokens { id } }', {}, user.token)).apiTokens[0];
      await there.gqlOk('mutation ($id: ID!) { revokeApiToken(id: $id) }', { id }, user.token);
      await Promise.all(live.map(({ subscription }) => subscription.done(5_000)));
      expect(live.map(({ client }) => client.closed[0]?.code)).toEqual([4403, 4403]);
    });
  });
}

revocationSuite('one replica', () => ({}));
describeRedis('with Redis', () => revocationSuite('two replicas over Redis', () => redisEnv()));
