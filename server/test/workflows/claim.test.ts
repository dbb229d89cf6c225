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

const HANDOFF = `mutation ($id: ID!, $a: Int!, $output: JSON, $q: [String!]) {
  completeAndClaimTask(id: $id, attempt: $a, output: $output, queues: $q, workerId: "handoff-worker") {
    completed { id status output runs { attempt outcome } }
    next { id name status attempts workerId workflow { id name } dependsOn { name output } runs { attempt readyAt startedAt outcome } }
  }
}`;

describe('completeAndClaimTask', () => {
  it('should complete the attempt and hand out the next READY task in one mutation, dependants included', async () => {
    const workflow = await startedWorkflow(server, server.adminToken, [{ name: 'first', queue: 'handoff' }, { name: 'second', queue: 'handoff', dependsOn: ['first'] }], 'handoff-wf');
    const first = (await claim(server, server.adminToken, 'handoff'))!;
    const { completeAndClaimTask: one } = await server.gqlOk(HANDOFF, { id: first.id, a: first.attempts, output: { n: 1 }, q: ['handoff'] }, server.adminToken);
    expect(one.completed).toMatchObject({ id: first.id, status: 'SUCCEEDED', output: { n: 1 }, runs: [{ attempt: 1, outcome: 'SUCCEEDED' }] });
    // `second` became READY with the completion, in the same transaction, and is claimed at once.
    expect(one.next).toMatchObject({ name: 'second', status: 'RUNNING', attempts: 1, workerId: 'handoff-worker', workflow: { id: workflow.id, name: 'handoff-wf' } });
    expect(one.next.dependsOn).toEqual([{ name: 'first', output: { n: 1 } }]);
    const [run] = one.next.runs;
    expect(run.outcome).toBeNull();
    expect(Date.parse(run.readyAt)).toBeLessThanOrEqual(Date.parse(run.startedAt));

    const { completeAndClaimTask: two } = await server.gqlOk(HANDOFF, { id: one.next.id, a: 1, output: null, q: ['handoff'] }, server.adminToken);
    expect(two).toMatchObject({ completed: { status: 'SUCCEEDED' }, next: null });
    expect((await server.gqlOk('query ($id: ID!) { workflow(id: $id) { status } }', { id: workflow.id }, server.adminToken)).workflow.status).toBe('SUCCEEDED');
  });

  it('should claim nothing when the completion is refused (lease lost, bad output)', async () => {
    await startedWorkflow(server, server.adminToken, [{ name: 'held', queue: 'handoff-refused' }, { name: 'waiting', queue: 'handoff-refused' }]);
    const held = (await claim(server, server.adminToken, 'handoff-refused'))!;
    const lost = await server.gql(HANDOFF, { id: held.id, a: held.attempts + 1, q: ['handoff-refused'] }, server.adminToken);
    expect(lost.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(lost.errors?.[0].message).toMatch(/^Lease lost/);
    const huge = await server.gql(HANDOFF, { id: held.id, a: held.attempts, output: 'x'.repeat(300 * 1024), q: ['handoff-refused'] }, server.adminToken);
    expect(huge.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badQueue = await server.gql(HANDOFF, { id: held.id, a: held.attempts, q: ['no spaces'] }, server.adminToken);
    expect(badQueue.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    // `waiting` is still READY and `held` still RUNNING: nothing was half-done.
    expect((await claim(server, server.adminToken, 'handoff-refused'))?.name).toBe('waiting');
    const { task } = await server.gqlOk('query ($id: ID!) { task(id: $id) { status attempts } }', { id: held.id }, server.adminToken);
    expect(task).toEqual({ status: 'RUNNING', attempts: 1 });
  });

  it('should hand a member only tasks of its own workflows, and refuse viewers', async () => {
    const owner = await server.newUser('MEMBER');
    const other = await server.newUser('MEMBER');
    const viewer = await server.newUser('VIEWER');
    await startedWorkflow(server, owner.token, [{ name: 'mine', queue: 'handoff-owner' }]);
    await startedWorkflow(server, other.token, [{ name: 'theirs', queue: 'handoff-owner' }, { name: 'theirs-too', queue: 'handoff-owner' }]);
    const theirs = (await claim(server, other.token, 'handoff-owner'))!;
    const hidden = await server.gql(HANDOFF, { id: theirs.id, a: 1, q: ['handoff-owner'] }, owner.token);
    expect(hidden.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const refused = await server.gql(HANDOFF, { id: theirs.id, a: 1, q: ['handoff-owner'] }, viewer.token);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const { completeAndClaimTask } = await server.gqlOk(HANDOFF, { id: theirs.id, a: 1, q: ['handoff-owner'] }, other.token);
    expect(completeAndClaimTask.next.name).toBe('theirs-too');
  });
});
