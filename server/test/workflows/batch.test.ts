/**
 * Batched worker calls and completions without the workflow lock (issue 14): claimTasks hands
 * out several tasks in one statement; completeAndClaimTasks completes several attempts, each
 * taken or refused on its own, and claims the next ones; a completion of a task nobody waits
 * for locks no workflow, so the last completions of a workflow run side by side — and the
 * workflow still finishes, whichever commits last.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '../../src/db/orm.js';
import { finishStrandedWorkflows } from '../../src/workflows/lifecycle.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { claim, getWorkflow, startedWorkflow } from '../support/workflows.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ DB_POOL_MAX: '20', RATE_LIMIT_PER_MINUTE: '0' });
});
afterAll(() => server?.stop());

const CLAIM_TASKS = 'mutation ($n: Int!, $q: [String!], $w: String) { claimTasks(limit: $n, queues: $q, workerId: $w) { id name status attempts priority workerId workflow { id } } }';
const BATCH = `mutation ($c: [TaskCompletionInput!]!, $n: Int!, $q: [String!]) {
  completeAndClaimTasks(completions: $c, claim: $n, queues: $q, workerId: "batch-worker") {
    completed { id status output runs { attempt outcome } }
    refused { taskId attempt code message }
    next { id name status attempts workerId dependsOn { name output } }
  }
}`;
const COMPLETE = 'mutation ($id: ID!, $a: Int!) { completeTask(id: $id, attempt: $a) { id status } }';
const statusOf = async (workflowId: string, token = server.adminToken) =>
  (await server.gqlOk('query ($id: ID!) { workflow(id: $id) { status } }', { id: workflowId }, token)).workflow.status;

describe('claimTasks', () => {
  it('should hand out up to `limit` tasks in claim order, each once across concurrent workers', async () => {
    await startedWorkflow(server, server.adminToken, [
      { name: 'low', queue: 'batch-claim' },
      { name: 'high', queue: 'batch-claim', priority: 5 },
      ...Array.from({ length: 28 }, (_, i) => ({ name: `t${i}`, queue: 'batch-claim' })),
    ]);
    const { claimTasks: first } = await server.gqlOk(CLAIM_TASKS, { n: 3, q: ['batch-claim'], w: 'w0' }, server.adminToken);
    expect(first.map((t: any) => t.name)).toEqual(['high', 'low', 't0']);
    expect(first.every((t: any) => t.status === 'RUNNING' && t.attempts === 1 && t.workerId === 'w0')).toBe(true);
    // 27 left, 10 workers asking for 5 each at once: every task once, 17 asks get less or nothing.
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => server.gqlOk(CLAIM_TASKS, { n: 5, q: ['batch-claim'], w: `w${i + 1}` }, server.adminToken)));
    const ids = answers.flatMap((a) => a.claimTasks.map((t: any) => t.id));
    expect(ids).toHaveLength(27);
    expect(new Set(ids).size).toBe(27);
    expect((await server.gqlOk(CLAIM_TASKS, { n: 5, q: ['batch-claim'] }, server.adminToken)).claimTasks).toEqual([]);
  });

  it('should refuse a limit outside 1–100 with BAD_USER_INPUT naming it, and viewers', async () => {
    for (const n of [0, 101, -1]) {
      const refused = await server.gql(CLAIM_TASKS, { n, q: ['batch-claim'] }, server.adminToken);
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
    }
    const viewer = await server.newUser('VIEWER');
    expect((await server.gql(CLAIM_TASKS, { n: 1 }, viewer.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('should hand a member only tasks of its own workflows', async () => {
    const owner = await server.newUser('MEMBER');
    const other = await server.newUser('MEMBER');
    await startedWorkflow(server, other.token, [{ name: 'theirs', queue: 'batch-owner' }]);
    await startedWorkflow(server, owner.token, [{ name: 'mine', queue: 'batch-owner' }]);
    const { claimTasks } = await server.gqlOk(CLAIM_TASKS, { n: 10, q: ['batch-owner'] }, owner.token);
    expect(claimTasks.map((t: any) => t.name)).toEqual(['mine']);
  });
});

describe('completeAndClaimTasks', () => {
  it('should complete each attempt it may, refuse the others one by one, and claim the next tasks', async () => {
    const owner = await server.newUser('MEMBER');
    const workflow = await startedWorkflow(server, owner.token, [
      { name: 'a', queue: 'batch-done' }, { name: 'b', queue: 'batch-done' }, { name: 'c', queue: 'batch-done' }, { name: 'd', queue: 'batch-done' },
      { name: 'after-a', queue: 'batch-done', dependsOn: ['a'] },
    ]);
    const { claimTasks: held } = await server.gqlOk(CLAIM_TASKS, { n: 4, q: ['batch-done'] }, owner.token);
    const [a, b, c, d] = held;
    const stranger = await server.newUser('MEMBER');
    const strangers = await startedWorkflow(server, stranger.token, [{ name: 'not-yours', queue: 'batch-stranger' }]);
    const notYours = (await claim(server, stranger.token, 'batch-stranger'))!;
    const completions = [
      { id: a.id, attempt: 1, output: { n: 'a' } },
      { id: b.id, attempt: 2 }, // not the running attempt: lease lost
      { id: c.id, attempt: 1, output: 'x'.repeat(300 * 1024) }, // too large
      { id: notYours.id, attempt: 1 }, // another member's: hidden
      { id: d.id, attempt: 1, output: [1, 2] },
    ];
    const { completeAndClaimTasks: answer } = await server.gqlOk(BATCH, { c: completions, n: 3, q: ['batch-done'] }, owner.token);
    expect(answer.completed.map((t: any) => [t.id, t.status, t.output, t.runs])).toEqual([
      [a.id, 'SUCCEEDED', { n: 'a' }, [{ attempt: 1, outcome: 'SUCCEEDED' }]],
      [d.id, 'SUCCEEDED', [1, 2], [{ attempt: 1, outcome: 'SUCCEEDED' }]],
    ]);
    const refused = Object.fromEntries(answer.refused.map((r: any) => [r.taskId, r]));
    expect(refused[b.id]).toMatchObject({ attempt: 2, code: 'CONFLICT', message: expect.stringMatching(/^Lease lost/) });
    expect(refused[c.id]).toMatchObject({ attempt: 1, code: 'BAD_USER_INPUT', message: expect.stringContaining('output') });
    expect(refused[notYours.id]).toMatchObject({ code: 'NOT_FOUND' });
    expect(answer.refused).toHaveLength(3);
    // `after-a` became READY with a's completion, in the same transaction, and was claimed.
    expect(answer.next).toMatchObject([{ name: 'after-a', status: 'RUNNING', workerId: 'batch-worker', dependsOn: [{ name: 'a', output: { n: 'a' } }] }]);
    // Nothing half-done: the refused ones still run.
    const tasks = Object.fromEntries((await getWorkflow(server, owner.token, workflow.id)).tasks.map((t: any) => [t.name, t.status]));
    expect(tasks).toEqual({ a: 'SUCCEEDED', b: 'RUNNING', c: 'RUNNING', d: 'SUCCEEDED', 'after-a': 'RUNNING' });
    expect((await getWorkflow(server, stranger.token, strangers.id)).tasks[0].status).toBe('RUNNING');
  });

  it('should finish the workflow with its last completions, and refuse bad batches as a whole', async () => {
    const workflow = await startedWorkflow(server, server.adminToken, [{ name: 'x', queue: 'batch-last' }, { name: 'y', queue: 'batch-last' }]);
    const { claimTasks: held } = await server.gqlOk(CLAIM_TASKS, { n: 2, q: ['batch-last'] }, server.adminToken);
    const twice = await server.gql(BATCH, { c: [{ id: held[0].id, attempt: 1 }, { id: held[0].id, attempt: 1 }], n: 0 }, server.adminToken);
    expect(twice.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'completions[1].id' });
    const tooMany = await server.gql(BATCH, { c: held.map((t: any) => ({ id: t.id, attempt: 1 })), n: 101 }, server.adminToken);
    expect(tooMany.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'claim' });
    const badQueue = await server.gql(BATCH, { c: held.map((t: any) => ({ id: t.id, attempt: 1 })), n: 1, q: ['no spaces'] }, server.adminToken);
    expect(badQueue.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await statusOf(workflow.id)).toBe('RUNNING');
    const { completeAndClaimTasks } = await server.gqlOk(BATCH, { c: held.map((t: any) => ({ id: t.id, attempt: 1 })), n: 0 }, server.adminToken);
    expect(completeAndClaimTasks.completed).toHaveLength(2);
    expect(await statusOf(workflow.id)).toBe('SUCCEEDED');
  });

  it('should fail attempts in the same request, retried after their backoff or failed for good, and claim the next', async () => {
    const workflow = await startedWorkflow(server, server.adminToken, [
      { name: 'flaky', queue: 'batch-fail', maxAttempts: 3 },
      { name: 'doomed', queue: 'batch-fail' },
      { name: 'fine', queue: 'batch-fail' },
      { name: 'waiting', queue: 'batch-fail' },
    ]);
    const { claimTasks: held } = await server.gqlOk(CLAIM_TASKS, { n: 3, q: ['batch-fail'] }, server.adminToken);
    const byName = Object.fromEntries(held.map((t: any) => [t.name, t]));
    const FAIL = `mutation ($c: [TaskCompletionInput!]!, $f: [TaskFailureInput!], $n: Int!) {
      completeAndClaimTasks(completions: $c, failures: $f, claim: $n, queues: ["batch-fail"]) {
        completed { name status } failed { name status attempts error errorType } refused { taskId code } next { name }
      }
    }`;
    const { completeAndClaimTasks: answer } = await server.gqlOk(FAIL, {
      c: [{ id: byName.fine.id, attempt: 1 }],
      f: [
        { id: byName.flaky.id, attempt: 1, error: 'try again', errorType: 'Transient' },
        { id: byName.doomed.id, attempt: 7, error: 'stale' }, // not the running attempt
      ],
      n: 2,
    }, server.adminToken);
    expect(answer.completed).toEqual([{ name: 'fine', status: 'SUCCEEDED' }]);
    expect(answer.failed).toEqual([{ name: 'flaky', status: 'READY', attempts: 1, error: 'try again', errorType: 'Transient' }]);
    expect(answer.refused).toEqual([{ taskId: byName.doomed.id, code: 'CONFLICT' }]);
    // The claim came before the failure: `waiting` now, `flaky` (READY again) at the next claim.
    expect(answer.next).toEqual([{ name: 'waiting' }]);
    const empty = await server.gqlOk(FAIL, { c: [], f: [{ id: byName.doomed.id, attempt: 1, error: '  ' }], n: 0 }, server.adminToken);
    expect(empty.completeAndClaimTasks.refused).toEqual([{ taskId: byName.doomed.id, code: 'BAD_USER_INPUT' }]);
    const last = await server.gqlOk(FAIL, { c: [], f: [{ id: byName.doomed.id, attempt: 1, error: 'broken' }], n: 0 }, server.adminToken);
    expect(last.completeAndClaimTasks.failed).toMatchObject([{ name: 'doomed', status: 'FAILED' }]);
    expect(await statusOf(workflow.id)).toBe('FAILED');
  });

  it('should use the same statements for a batch of 20 as for a batch of 2', async () => {
    const run = async (n: number, queue: string) => {
      await startedWorkflow(server, server.adminToken, Array.from({ length: 2 * n }, (_, i) => ({ name: `s${i}`, queue })));
      const { claimTasks: held } = await server.gqlOk(CLAIM_TASKS, { n, q: [queue] }, server.adminToken);
      let next: any[] = [];
      const counted = await countStatements(server.app, async () => {
        next = (await server.gqlOk(BATCH, { c: held.map((t: any) => ({ id: t.id, attempt: 1, output: { t: t.name } })), n, q: [queue] }, server.adminToken)).completeAndClaimTasks.next;
      });
      expect(next).toHaveLength(n);
      return counted;
    };
    const small = await run(2, 'batch-stmt-2');
    const large = await run(20, 'batch-stmt-20');
    console.log(`completeAndClaimTasks statements: ${small.count} for 2, ${large.count} for 20`);
    expect(large.count).toBe(small.count);
    // No workflow lock: none of the completed tasks has a dependant.
    expect(large.sql.filter((sql) => /^select \* from workflows where id = .*for update$/s.test(sql))).toEqual([]);
  });
});

describe('the last completions of a workflow', () => {
  it('should finish every workflow whose last tasks complete at the same moment, with no deadlock or error', async () => {
    // 30 workflows of 3 independent tasks; each workflow's three completions sent at once, by
    // completeTask, completeAndClaimTask and completeAndClaimTasks: none locks the workflow.
    const workflows = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      startedWorkflow(server, server.adminToken, ['p', 'q', 'r'].map((name) => ({ name, queue: `race-${i}` })), `race-${i}`)));
    for (const [i, workflow] of workflows.entries()) {
      const { claimTasks: held } = await server.gqlOk(CLAIM_TASKS, { n: 3, q: [`race-${i}`] }, server.adminToken);
      expect(held).toHaveLength(3);
      const answers = await Promise.all([
        server.gql(COMPLETE, { id: held[0].id, a: 1 }, server.adminToken),
        server.gql('mutation ($id: ID!) { completeAndClaimTask(id: $id, attempt: 1, queues: ["race-none"]) { completed { status } } }', { id: held[1].id }, server.adminToken),
        server.gql(BATCH, { c: [{ id: held[2].id, attempt: 1 }], n: 0 }, server.adminToken),
      ]);
      expect(answers.flatMap((a) => a.errors ?? [])).toEqual([]);
      // Each answer came after its own finishing step: the workflow is finished by now.
      expect(await statusOf(workflow.id), `workflow ${i}`).toBe('SUCCEEDED');
    }
  });

  it('should lock the workflow only for a completion that readies dependants', async () => {
    await startedWorkflow(server, server.adminToken, [{ name: 'first', queue: 'lock-which' }, { name: 'then', queue: 'lock-which', dependsOn: ['first'] }, { name: 'alone', queue: 'lock-which' }]);
    const { claimTasks: held } = await server.gqlOk(CLAIM_TASKS, { n: 2, q: ['lock-which'] }, server.adminToken);
    const byName = Object.fromEntries(held.map((t: any) => [t.name, t]));
    const locks = (sqls: string[]) => sqls.filter((sql) => /^select \* from workflows where id = .*for update$/s.test(sql)).length;
    const alone = await countStatements(server.app, () => server.gqlOk(COMPLETE, { id: byName.alone.id, a: 1 }, server.adminToken));
    const first = await countStatements(server.app, () => server.gqlOk(COMPLETE, { id: byName.first.id, a: 1 }, server.adminToken));
    expect(locks(alone.sql)).toBe(0);
    expect(locks(first.sql)).toBe(1);
    expect((await claim(server, server.adminToken, 'lock-which'))?.name).toBe('then');
  });

  it('should be finished by the leader’s sweep when the finishing step never ran (a replica died after the commit)', async () => {
    const workflow = await startedWorkflow(server, server.adminToken, [{ name: 'only', queue: 'stranded' }]);
    const task = (await claim(server, server.adminToken, 'stranded'))!;
    // What a completion commits before its finishing step: the task done, the workflow untouched.
    const em = server.app.orm.em.fork() as EntityManager;
    await em.execute(`update tasks set status = 'SUCCEEDED', finished_at = now() where id = ?`, [Buffer.from(task.id, 'base64url').toString().split(':')[1]]);
    expect(await statusOf(workflow.id)).toBe('RUNNING');
    const finished = await finishStrandedWorkflows({ em, app: server.app.services });
    expect(finished).toContain(Buffer.from(workflow.id, 'base64url').toString().split(':')[1]);
    expect(await statusOf(workflow.id)).toBe('SUCCEEDED');
    expect(await finishStrandedWorkflows({ em, app: server.app.services })).toEqual([]);
  });
});
