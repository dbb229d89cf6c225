import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { claim, startedWorkflow } from '../support/workflows.js';

let server: TestServer;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let viewer: { id: string; token: string };
let alicesWorkflow: any;
let alicesTask: { id: string };

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.newUser('MEMBER', 'alice');
  bob = await server.newUser('MEMBER', 'bob');
  viewer = await server.newUser('VIEWER', 'vera');
  alicesWorkflow = await startedWorkflow(server, alice.token, [{ name: 'secret step', queue: 'alice-q' }, { name: 'later', dependsOn: ['secret step'], queue: 'alice-q' }], 'alice secret');
  await startedWorkflow(server, bob.token, [{ name: 'bob step' }], 'bob workflow');
  alicesTask = (await claim(server, alice.token, 'alice-q'))!;
});
afterAll(() => server?.stop());

const listNames = async (token: string, search?: string) => {
  const { workflows } = await server.gqlOk('query ($s: String) { workflows(search: $s) { totalCount edges { node { name } } } }', { s: search ?? null }, token);
  return { total: workflows.totalCount, names: workflows.edges.map((e: any) => e.node.name).sort() };
};

describe('workflow visibility', () => {
  it('should list and count only a member\'s own workflows', async () => {
    expect(await listNames(alice.token)).toEqual({ total: 1, names: ['alice secret'] });
    expect(await listNames(bob.token)).toEqual({ total: 1, names: ['bob workflow'] });
    expect(await listNames(bob.token, 'secret')).toEqual({ total: 0, names: [] });
  });

  it('should let admins and viewers see every workflow', async () => {
    for (const token of [server.adminToken, viewer.token]) {
      expect(await listNames(token)).toEqual({ total: 2, names: ['alice secret', 'bob workflow'] });
    }
  });

  it('should hide another member\'s workflow and tasks on every read path', async () => {
    const reads = [
      ['query ($id: ID!) { workflow(id: $id) { name } }', alicesWorkflow.id, 'workflow'],
      ['query ($id: ID!) { node(id: $id) { id } }', alicesWorkflow.id, 'node'],
      ['query ($id: ID!) { task(id: $id) { name workflow { name } } }', alicesTask.id, 'task'],
      ['query ($id: ID!) { node(id: $id) { ... on Task { name workflow { name } } } }', alicesTask.id, 'node'],
    ] as const;
    for (const [query, id, field] of reads) {
      const hidden = await server.gql(query, { id }, bob.token);
      expect(hidden.errors, query).toBeUndefined();
      expect(hidden.data?.[field], query).toBeNull();
      const seen = await server.gqlOk(query, { id }, viewer.token);
      expect(seen[field], query).not.toBeNull();
    }
  });

  it('should answer NOT_FOUND to another member\'s changes, as if the workflow did not exist', async () => {
    const changes = [
      ['mutation ($id: ID!) { startWorkflow(id: $id) { id } }', alicesWorkflow.id],
      ['mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', alicesWorkflow.id],
      ['mutation ($id: ID!) { deleteWorkflow(id: $id) }', alicesWorkflow.id],
      ['mutation ($id: ID!) { completeTask(id: $id) { id } }', alicesTask.id],
      ['mutation ($id: ID!) { failTask(id: $id, error: "x") { id } }', alicesTask.id],
      ['mutation ($id: ID!) { retryTask(id: $id) { id } }', alicesTask.id],
    ] as const;
    for (const [query, id] of changes) {
      const result = await server.gql(query, { id }, bob.token);
      expect(result.errors?.[0].extensions?.code, query).toBe('NOT_FOUND');
      expect(result.errors?.[0].message, query).toBe(id === alicesTask.id ? 'Task not found' : 'Workflow not found');
      expect(JSON.stringify(result)).not.toContain('secret');
    }
    expect((await server.gqlOk('query ($id: ID!) { workflow(id: $id) { status } }', { id: alicesWorkflow.id }, alice.token)).workflow.status).toBe('RUNNING');
  });

  it('should refuse every change by a viewer with FORBIDDEN', async () => {
    const changes = [
      ['mutation { createWorkflow(input: { name: "v" }) { id } }', {}],
      ['mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: alicesWorkflow.id }],
      ['mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: alicesWorkflow.id }],
      ['mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: alicesTask.id }],
      ['mutation { claimTask { id } }', {}],
    ] as const;
    for (const [query, variables] of changes) {
      const result = await server.gql(query, variables, viewer.token);
      expect(result.errors?.[0].extensions?.code, query).toBe('FORBIDDEN');
    }
  });

  it('should let an admin change any member\'s workflow', async () => {
    const done = await server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { status } }', { id: alicesTask.id }, server.adminToken);
    expect(done.completeTask.status).toBe('SUCCEEDED');
  });
});
