/**
 * Text and cursors from clients, over real HTTP and WebSocket: limits count code points, a
 * lone surrogate is refused (it would be stored as U+FFFD), a cursor works only with the list
 * it came from, and a cursor names why it is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, liveWorkflowEvents, WORKFLOW_EVENTS, type WorkflowEventData } from '../support/live.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { newWorkflow } from '../support/workflows.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const EMOJI = '\u{1F680}'; // two UTF-16 units, one code point
const LONE = '\uD83D'; // the first half of a pair, alone
const CREATE = 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id name description tasks { name } } }';
const ALERT_EVENTS = 'subscription ($after: String) { alertEvents(after: $after) { cursor kind } }';

async function workflowCount(): Promise<number> {
  return (await server.gqlOk('{ workflows { totalCount } }', {}, server.adminToken)).workflows.totalCount;
}

describe('text limits', () => {
  it('should count code points: 200 emoji are a valid name, 201 are one too many', async () => {
    const name = EMOJI.repeat(200);
    const { createWorkflow } = await server.gqlOk(CREATE, { input: { name, description: EMOJI.repeat(10_000), tasks: [{ name }] } }, server.adminToken);
    expect(createWorkflow).toMatchObject({ name, tasks: [{ name }] });
    expect((await server.gqlOk('query ($id: ID!) { workflow(id: $id) { name } }', { id: createWorkflow.id }, server.adminToken)).workflow.name).toBe(name);

    const tooLong = await server.gql(CREATE, { input: { name: EMOJI.repeat(201) } }, server.adminToken);
    expect(tooLong.errors?.[0]).toMatchObject({ message: 'name is longer than 200 characters', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it.each([
    ['an API token name', 'mutation ($n: String!) { createApiToken(name: $n) }', (n: string) => ({ n })],
    ['a user name', 'mutation ($n: String!) { createUser(email: "emoji-user@test.local", name: $n, password: "password-1", role: VIEWER) { name } }', (n: string) => ({ n })],
    ['an alert rule name', 'mutation ($n: String!) { createAlertRule(input: { name: $n, metric: "m", comparator: ">", threshold: 1, severity: LOW }) { name } }', (n: string) => ({ n })],
    ['a metric name', 'mutation ($n: String!) { recordMetrics(samples: [{ name: $n, service: "s", value: 1 }]) }', (n: string) => ({ n })],
  ])('should take 150 emoji as %s', async (_what, mutation, variables) => {
    const result = await server.gql(mutation, variables(EMOJI.repeat(150)), server.adminToken);
    expect(result.errors).toBeUndefined();
  });

  it('should keep a long task error whole at its limit, never half an emoji', async () => {
    const workflow = await newWorkflow(server, server.adminToken, [{ name: 'fails', queue: 'emoji-errors' }]);
    await server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: workflow.id }, server.adminToken);
    const { claimTask } = await server.gqlOk('mutation { claimTask(queue: "emoji-errors") { id } }', {}, server.adminToken);
    const { failTask } = await server.gqlOk('mutation ($id: ID!, $e: String!) { failTask(id: $id, error: $e) { error } }', { id: claimTask.id, e: `x${EMOJI.repeat(10_000)}` }, server.adminToken);
    expect(failTask.error).toBe(`x${EMOJI.repeat(9_999)}`);
  });
});

describe('lone surrogates', () => {
  it.each([
    ['a workflow name', { name: `bad ${LONE}` }, '$input.name'],
    ['a task name', { name: 'ok', tasks: [{ name: 'fine' }, { name: `${LONE}x` }] }, '$input.tasks[1].name'],
    ['a description (a trailing low half)', { name: 'ok', description: 'tail \uDE80' }, '$input.description'],
  ])('should refuse one in %s over HTTP with 400 BAD_USER_INPUT, storing nothing', async (_what, input, field) => {
    const before = await workflowCount();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ query: CREATE, variables: { input } }),
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(body.errors[0].message).toContain('lone surrogate');
    expect(await workflowCount()).toBe(before);
  });

  it('should refuse one in any string argument, such as a task error or a metric sample', async () => {
    for (const [mutation, variables] of [
      ['mutation ($id: ID!, $e: String!) { failTask(id: $id, error: $e) { id } }', { id: 'irrelevant', e: LONE }],
      ['mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: [{ name: 'm', service: `svc${LONE}`, value: 1 }] }],
    ] as const) {
      const result = await server.gql(mutation, variables, server.adminToken);
      expect(result.errors?.[0].extensions?.code, mutation).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0].message).toContain('lone surrogate');
    }
  });

  it('should refuse one in a GET query', async () => {
    const variables = encodeURIComponent(String.raw`{"s":"x\ud800"}`);
    const query = encodeURIComponent('query ($s: String) { workflows(search: $s) { totalCount } }');
    const response = await fetch(`${server.url}/graphql?query=${query}&variables=${variables}`, {
      headers: { authorization: `Bearer ${server.adminToken}`, 'apollo-require-preflight': '1' },
    });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('should refuse one over WebSocket the same way, and keep the socket', async () => {
    const client = connect(server.url, { token: server.adminToken });
    try {
      // Held open so the client keeps its socket between operations.
      const live = await liveWorkflowEvents(server.app, client);
      const refused = client.subscribe(CREATE, { input: { name: LONE } });
      await refused.done();
      expect(refused.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: '$input.name' } }]);
      const before = await workflowCount();
      const fine = client.subscribe(CREATE, { input: { name: `whole ${EMOJI}` } });
      const [created] = await fine.take(1);
      expect((created as any).createWorkflow.name).toBe(`whole ${EMOJI}`);
      expect(await workflowCount()).toBe(before + 1);
      await live.take(1);
      expect(client.closed).toEqual([]);
    } finally {
      await client.dispose();
    }
  });
});

describe('cursors', () => {
  it("should refuse one list's cursor in another, naming both", async () => {
    await newWorkflow(server, server.adminToken, [], 'cursor source');
    const { workflows } = await server.gqlOk('{ workflows(first: 1) { pageInfo { endCursor } } }', {}, server.adminToken);
    const foreign = await server.gql('query ($after: String) { alerts(after: $after) { totalCount } }', { after: workflows.pageInfo.endCursor }, server.adminToken);
    expect(foreign.errors?.[0]).toMatchObject({ message: 'after is a cursor of workflows, not of alerts', extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    const own = await server.gql('query ($after: String) { workflows(after: $after) { totalCount } }', { after: workflows.pageInfo.endCursor }, server.adminToken);
    expect(own.errors).toBeUndefined();
  });

  it("should refuse a workflow event's cursor in alertEvents, and a cursor from the future as such", async () => {
    const client = connect(server.url, { token: server.adminToken });
    try {
      const head = client.subscribe<WorkflowEventData>(WORKFLOW_EVENTS, { after: '0' });
      const [event] = await head.take(1);
      expect(event.workflowEvents.cursor).toMatch(/^workflow:\d+$/);

      const foreign = client.subscribe(ALERT_EVENTS, { after: event.workflowEvents.cursor });
      await foreign.done();
      expect(foreign.errors).toMatchObject([{ message: 'after is a cursor of workflow events, not of alert events', extensions: { code: 'BAD_USER_INPUT' } }]);

      const future = client.subscribe(WORKFLOW_EVENTS, { after: 'workflow:999999999999' });
      await future.done();
      expect(future.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(future.errors[0].message).toMatch(/has not written yet/);
      expect(future.errors[0].message).not.toMatch(/older than the log keeps/);
    } finally {
      await client.dispose();
    }
  });
});

describe('ids', () => {
  it('should say "an Alert id" and "an AlertRule id"', async () => {
    const workflow = await newWorkflow(server, server.adminToken);
    const result = await server.gql('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: workflow.id }, server.adminToken);
    expect(result.errors?.[0].message).toBe('Expected an Alert id, got a Workflow id');
    const rule = await server.gql('mutation ($id: ID!) { deleteAlertRule(id: $id) }', { id: workflow.id }, server.adminToken);
    expect(rule.errors?.[0].message).toBe('Expected an AlertRule id, got a Workflow id');
  });
});
