import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { claim, startedWorkflow } from '../support/workflows.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

// Many dependencies, so their uuid order almost surely differs from declaration order.
const TASKS = [
  ...Array.from({ length: 8 }, (_, i) => ({ name: `step-${i}` })),
  { name: 'join', dependsOn: Array.from({ length: 8 }, (_, i) => `step-${7 - i}`) },
];
const DECLARED = Array.from({ length: 8 }, (_, i) => `step-${i}`);

describe('Task.dependsOn', () => {
  it('should list dependencies in declaration order on a workflow list', async () => {
    await startedWorkflow(server, server.adminToken, TASKS, 'fan-in');
    const { workflows } = await server.gqlOk('{ workflows(first: 1) { edges { node { tasks { name dependsOn { name } } } } } }', {}, server.adminToken);
    const join = workflows.edges[0].node.tasks.find((t: any) => t.name === 'join');
    expect(join.dependsOn.map((d: any) => d.name)).toEqual(DECLARED);
  });

  it('should resolve dependencies of a task returned by a mutation and of a node lookup', async () => {
    const queue = 'fan-in-2';
    const workflow = await startedWorkflow(server, server.adminToken, TASKS.map((t) => ({ ...t, queue })), 'fan-in-2');
    const joinId = workflow.tasks.find((t: any) => t.name === 'join').id;
    for (let i = 0; i < 8; i++) {
      const task = await claim(server, server.adminToken, queue);
      await server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: task!.id }, server.adminToken);
    }
    const claimed = await server.gqlOk('mutation ($q: String) { claimTask(queue: $q) { name dependsOn { name status } } }', { q: queue }, server.adminToken);
    expect(claimed.claimTask.name).toBe('join');
    expect(claimed.claimTask.dependsOn.map((d: any) => d.name)).toEqual(DECLARED);
    expect(claimed.claimTask.dependsOn.every((d: any) => d.status === 'SUCCEEDED')).toBe(true);
    const { node } = await server.gqlOk('query ($id: ID!) { node(id: $id) { ... on Task { dependsOn { name } } } }', { id: joinId }, server.adminToken);
    expect(node.dependsOn.map((d: any) => d.name)).toEqual(DECLARED);
  });

  it('should show a member no dependency of a workflow it may not see', async () => {
    const member = await server.newUser('MEMBER');
    const workflow = await startedWorkflow(server, server.adminToken, TASKS, 'hidden');
    const joinId = workflow.tasks.find((t: any) => t.name === 'join').id;
    const { node } = await server.gqlOk('query ($id: ID!) { node(id: $id) { ... on Task { dependsOn { name } } } }', { id: joinId }, member.token);
    expect(node).toBeNull();
  });
});
