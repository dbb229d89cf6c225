import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { claim, startedWorkflow } from '../support/workflows.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ DB_POOL_MAX: '20' });
});
afterAll(() => server?.stop());

describe('claimTask', () => {
  it('should hand 20 READY tasks to 20 of 50 concurrent workers, each task once', async () => {
    const tasks = Array.from({ length: 20 }, (_, i) => ({ name: `t${i}`, queue: 'concurrent' }));
    await startedWorkflow(server, server.adminToken, tasks);
    const claims = await Promise.all(Array.from({ length: 50 }, () => claim(server, server.adminToken, 'concurrent')));
    const claimed = claims.filter((c) => c !== null);
    expect(claimed).toHaveLength(20);
    expect(new Set(claimed.map((c) => c!.id)).size).toBe(20);
    expect(claims.filter((c) => c === null)).toHaveLength(30);
    expect(claimed.every((c) => c!.status === 'RUNNING' && c!.attempts === 1)).toBe(true);
  });

  it('should only take tasks of the named queue, and of any queue when none is named', async () => {
    await startedWorkflow(server, server.adminToken, [{ name: 'x', queue: 'queue-x' }, { name: 'y', queue: 'queue-y' }]);
    expect(await claim(server, server.adminToken, 'queue-none')).toBeNull();
    expect((await claim(server, server.adminToken, 'queue-y'))?.name).toBe('y');
    expect((await claim(server, server.adminToken))?.name).toBe('x');
  });

  it('should trim the queue it is asked for, and refuse a name no task can have', async () => {
    await startedWorkflow(server, server.adminToken, [{ name: 'trimmed', queue: 'queue-trim' }]);
    expect((await claim(server, server.adminToken, '  queue-trim '))?.name).toBe('trimmed');
    for (const queue of ['no spaces', 'x'.repeat(101), '   ']) {
      const refused = await server.gql('mutation ($queue: String) { claimTask(queue: $queue) { id } }', { queue }, server.adminToken);
      expect(refused.errors?.[0].extensions?.code, queue).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0].message).toMatch(/^queue must be 1 to 100 letters, digits or _ \. : -$/);
    }
  });

  it('should never hand a member a task of another member, and refuse viewers', async () => {
    const owner = await server.newUser('MEMBER');
    const other = await server.newUser('MEMBER');
    const viewer = await server.newUser('VIEWER');
    await startedWorkflow(server, owner.token, [{ name: 'private', queue: 'isolated' }]);
    expect(await claim(server, other.token, 'isolated')).toBeNull();
    const refused = await server.gql('mutation { claimTask(queue: "isolated") { id } }', {}, viewer.token);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await claim(server, owner.token, 'isolated'))?.name).toBe('private');
  });

  it('should not hand out tasks of a workflow that was never started or was cancelled', async () => {
    const workflow = await startedWorkflow(server, server.adminToken, [{ name: 'c', queue: 'cancelled-q' }]);
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: workflow.id }, server.adminToken);
    expect(await claim(server, server.adminToken, 'cancelled-q')).toBeNull();
  });
});
