import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { newWorkflow } from '../support/workflows.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const create = (input: unknown) => server.gql('mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input }, server.adminToken);

async function workflowCount() {
  return (await server.gqlOk('{ workflows { totalCount } }', {}, server.adminToken)).workflows.totalCount as number;
}

describe('createWorkflow input', () => {
  it.each([
    ['an empty name', { name: '   ' }, /name must not be empty/],
    ['a too long name', { name: 'x'.repeat(201) }, /longer than 200/],
    ['an empty task name', { name: 'w', tasks: [{ name: '' }] }, /tasks\[0\]\.name must not be empty/],
    ['a duplicate task name', { name: 'w', tasks: [{ name: 'a' }, { name: 'a' }] }, /used twice/],
    ['an unknown dependency', { name: 'w', tasks: [{ name: 'a', dependsOn: ['ghost'] }] }, /unknown task "ghost"/],
    ['a task depending on itself', { name: 'w', tasks: [{ name: 'a', dependsOn: ['a'] }] }, /depends on itself/],
    ['a dependency cycle', { name: 'w', tasks: [{ name: 'a', dependsOn: ['c'] }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b'] }] }, /cycle: a → c → b → a/],
    ['zero attempts', { name: 'w', tasks: [{ name: 'a', maxAttempts: 0 }] }, /maxAttempts must be 1 to 100/],
    ['a bad queue name', { name: 'w', tasks: [{ name: 'a', queue: 'no spaces' }] }, /queue/],
    ['too many tasks', { name: 'w', tasks: Array.from({ length: 1001 }, (_, i) => ({ name: `t${i}` })) }, /at most 1000 tasks/],
  ])('should refuse %s with BAD_USER_INPUT and store nothing', async (_case, input, message) => {
    const before = await workflowCount();
    const result = await create(input);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(message);
    expect(await workflowCount()).toBe(before);
  });

  it('should refuse wrong types before running anything', async () => {
    const result = await create({ name: 'w', tasks: [{ name: 'a', maxAttempts: 'three' }] });
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('should default queue to "default" and maxAttempts to 1', async () => {
    const workflow = await newWorkflow(server, server.adminToken, [{ name: 'plain' }]);
    expect(workflow.tasks[0]).toMatchObject({ queue: 'default', maxAttempts: 1, attempts: 0 });
  });
});

describe('ids', () => {
  it.each([
    ['garbage', 'not-an-id'],
    ['a non-uuid', Buffer.from('Workflow:123').toString('base64url')],
    ['an unknown type', Buffer.from('Planet:00000000-0000-0000-0000-000000000000').toString('base64url')],
  ])('should refuse %s id with BAD_USER_INPUT', async (_case, id) => {
    const result = await server.gql('query ($id: ID!) { workflow(id: $id) { id } }', { id }, server.adminToken);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('should refuse an id of the wrong type', async () => {
    const workflow = await newWorkflow(server, server.adminToken);
    const result = await server.gql('query ($id: ID!) { task(id: $id) { id } }', { id: workflow.id }, server.adminToken);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(/Expected a Task id, got a Workflow id/);
  });

  it('should answer null for a well-formed id that names nothing', async () => {
    const id = Buffer.from('Workflow:00000000-0000-4000-8000-000000000000').toString('base64url');
    const result = await server.gqlOk('query ($id: ID!) { workflow(id: $id) { id } node(id: $id) { id } }', { id }, server.adminToken);
    expect(result).toEqual({ workflow: null, node: null });
  });
});

describe('workflows connection', () => {
  it('should page through every workflow newest first with cursors', async () => {
    for (let i = 0; i < 7; i++) await newWorkflow(server, server.adminToken, [], `page-${i}`);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const { workflows }: any = await server.gqlOk(
        'query ($after: String) { workflows(first: 3, after: $after, search: "page-") { totalCount edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }',
        { after }, server.adminToken,
      );
      expect(workflows.totalCount).toBe(7);
      seen.push(...workflows.edges.map((e: any) => e.node.name));
      expect(workflows.pageInfo.hasPreviousPage).toBe(after !== null);
      if (!workflows.pageInfo.hasNextPage) break;
      after = workflows.pageInfo.endCursor;
    }
    expect(seen).toEqual(['page-6', 'page-5', 'page-4', 'page-3', 'page-2', 'page-1', 'page-0']);
  });

  it('should filter by status and treat search wildcards literally', async () => {
    await newWorkflow(server, server.adminToken, [], '100%_literal');
    const { workflows } = await server.gqlOk('{ workflows(search: "0%_l", status: [DRAFT]) { totalCount } }', {}, server.adminToken);
    expect(workflows.totalCount).toBe(1);
    const none = await server.gqlOk('{ workflows(search: "%", status: [RUNNING]) { totalCount } }', {}, server.adminToken);
    expect(none.workflows.totalCount).toBe(0);
  });

  it('should refuse a page size over 100, zero, a negative one and a bad cursor', async () => {
    for (const query of ['{ workflows(first: 101) { totalCount } }', '{ workflows(first: 0) { totalCount } }', '{ workflows(first: -1) { totalCount } }', '{ workflows(after: "bogus") { totalCount } }', '{ alerts(first: 0) { totalCount } }']) {
      const result = await server.gql(query, {}, server.adminToken);
      expect(result.errors?.[0].extensions?.code, query).toBe('BAD_USER_INPUT');
    }
  });
});

describe('HTTP', () => {
  it('should answer a malformed JSON body with 400 and a GraphQL error', async () => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('should answer a body with no query with 400', async () => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"variables": {}}' });
    expect(response.status).toBe(400);
  });

  it('should refuse a body over 1 MB with 413', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { status } }', variables: { pad: 'x'.repeat(1_100_000) } }),
    });
    expect(response.status).toBe(413);
  });

  it('should answer a syntax error with GRAPHQL_PARSE_FAILED and keep serving', async () => {
    const result = await server.gql('{ workflows { ', {}, server.adminToken);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it('should give every response a request id', async () => {
    const response = await fetch(`${server.url}/api/health`);
    expect(response.headers.get('x-request-id')).toMatch(/^[\w-]{8,}$/);
  });
});
