import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { newWorkflow } from '../support/workflows.js';

let server: TestServer;

const DASHBOARD = `query ($first: Int!) {
  workflows(first: $first) {
    totalCount
    edges { node { id name status owner { id email } taskCounts { total running failed }
      tasks { id name status attempts dependsOn { id name } workflow { id } } } }
  }
}`;

beforeAll(async () => {
  server = await startTestServer();
  const members = [await server.newUser('MEMBER'), await server.newUser('MEMBER'), await server.newUser('MEMBER')];
  for (let i = 0; i < 50; i++) {
    await newWorkflow(server, members[i % 3].token, [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['a', 'b'] }], `wf-${i}`);
  }
});
afterAll(() => server?.stop());

describe('workflow list statements', () => {
  it('should issue the same small number of statements for 50 workflows as for 5', async () => {
    await server.gqlOk(DASHBOARD, { first: 1 }, server.adminToken); // warm: auth's last-used write
    let five: any;
    let fifty: any;
    const small = await countStatements(server.app, async () => (five = await server.gqlOk(DASHBOARD, { first: 5 }, server.adminToken)));
    const large = await countStatements(server.app, async () => (fifty = await server.gqlOk(DASHBOARD, { first: 50 }, server.adminToken)));
    expect(five.workflows.edges).toHaveLength(5);
    expect(fifty.workflows.edges).toHaveLength(50);
    expect(fifty.workflows.edges[0].node.tasks[2].dependsOn.map((d: any) => d.name)).toEqual(['a', 'b']);
    console.log(`dashboard query statements: ${small.count} for 5 workflows, ${large.count} for 50`);
    expect(large.count).toBe(small.count);
    // auth, page, count, owners, tasks (with their dependency ids; the task counts come from them)
    expect(large.count).toBeLessThanOrEqual(5);
    expect(large.sql.some((sql) => /count\(\*\).*group by workflow_id, status/s.test(sql))).toBe(false);
    for (const { node } of fifty.workflows.edges) expect(node.taskCounts.total).toBe(node.tasks.length);
  });

  it('should count every task of a workflow from the loaded tasks, whatever the tasks selection filters', async () => {
    const counts = 'taskCounts { pending ready running succeeded failed cancelled total }';
    const alone = await server.gqlOk(`{ workflows(first: 50) { edges { node { id ${counts} } } } }`, {}, server.adminToken);
    const filtered = await server.gqlOk(`{ workflows(first: 50) { edges { node { id tasks(status: [READY]) { id } ${counts} } } } }`, {}, server.adminToken);
    expect(filtered.workflows.edges.map((e: any) => e.node.taskCounts)).toEqual(alone.workflows.edges.map((e: any) => e.node.taskCounts));
    expect(alone.workflows.edges[0].node.taskCounts).toMatchObject({ total: 3 });
  });

  it('should not grow with the page size for task and node lookups either', async () => {
    const { workflows } = await server.gqlOk('{ workflows(first: 50) { edges { node { tasks { id } } } } }', {}, server.adminToken);
    const ids: string[] = workflows.edges.flatMap((e: any) => e.node.tasks.map((t: any) => t.id));
    const query = (n: number) =>
      `{ ${ids.slice(0, n).map((id, i) => `t${i}: node(id: "${id}") { ... on Task { name workflow { name owner { email } } dependsOn { name } } }`).join(' ')} }`;
    const few = await countStatements(server.app, () => server.gqlOk(query(3), {}, server.adminToken));
    const many = await countStatements(server.app, () => server.gqlOk(query(30), {}, server.adminToken));
    expect(many.count).toBe(few.count);
  });
});

describe('worker statements', () => {
  it('should claim in 4 statements inside its transaction, complete in 4 and do both in 6, plus one finishing check after a completion', async () => {
    const tasks = Array.from({ length: 3 }, (_, i) => ({ name: `s${i}`, queue: 'statements' }));
    await newWorkflow(server, server.adminToken, tasks, 'statements').then((w) => server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: w.id }, server.adminToken));
    const claim = 'mutation { claimTask(queues: ["statements"], workerId: "w") { id attempts workflow { name } dependsOn { name } } }';
    const handoff = 'mutation ($id: ID!) { completeAndClaimTask(id: $id, attempt: 1, queues: ["statements"], workerId: "w") { next { id attempts workflow { name } dependsOn { name } } } }';
    // Outside the transaction: auth, BEGIN and COMMIT; the answer's workflow and dependencies come from the claim.
    const outside = 3;
    let task: any;
    const claimed = await countStatements(server.app, async () => (task = (await server.gqlOk(claim, {}, server.adminToken)).claimTask));
    expect(task.workflow.name).toBe('statements');
    const both = await countStatements(server.app, async () => (task = (await server.gqlOk(handoff, { id: task.id }, server.adminToken)).completeAndClaimTask.next));
    expect(task.dependsOn).toEqual([]);
    const completed = await countStatements(server.app, () => server.gqlOk('mutation ($id: ID!) { completeTask(id: $id, attempt: 1) { id } }', { id: task.id }, server.adminToken));
    console.log(`worker statements: claim ${claimed.count}, complete ${completed.count}, complete and claim ${both.count}`);
    // claim + run, workflow, audit, events
    expect(claimed.count).toBe(outside + 4);
    // lock task, complete + close run, audit, events; after the commit, whether the workflow is
    // done. No task waits for these, so no workflow lock and no readying (was 6 inside: issue 14).
    const finishing = 1;
    expect(completed.count).toBe(outside + 4 + finishing);
    expect(both.count).toBe(outside + 6 + finishing);
  });
});
