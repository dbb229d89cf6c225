import 'reflect-metadata';
import { parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectedFields } from '../../src/graphql/selection.js';
import { buildAppSchema } from '../../src/app/schema.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { newWorkflow } from '../support/workflows.js';

let server: TestServer;
let workflowId: string;
let taskIds: string[];

beforeAll(async () => {
  server = await startTestServer();
  const created = await newWorkflow(server, server.adminToken, [{ name: 'a', queue: 'heavy', maxAttempts: 3 }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b', 'a'] }], 'selected');
  workflowId = created.id;
  taskIds = created.tasks.map((t: { id: string }) => t.id);
  await server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: workflowId }, server.adminToken);
});
afterAll(() => server?.stop());

const taskStatements = (sql: string[]) => sql.filter((s) => /from tasks t/.test(s));

describe('selected fields', () => {
  it('should follow fragments, inline fragments and interfaces to the object types', async () => {
    const schema = await buildAppSchema();
    const document = parse(`query ($id: ID!) {
      node(id: $id) { id ... on Task { name ...more } }
      workflows(first: 1) { edges { node { ...more2 } } }
    }
    fragment more on Task { queue dependsOn { status } }
    fragment more2 on Workflow { tasks { ...more } }`);
    const selected = selectedFields(schema, document, document.definitions[0] as OperationDefinitionNode);
    expect([...selected.get('Task')!].sort()).toEqual(['dependsOn', 'id', 'name', 'queue', 'status']);
    // `id` asked of the Node interface counts for every type that implements it.
    expect(selected.get('User')?.has('id')).toBe(true);
    expect(selected.get('Workflow')?.has('tasks')).toBe(true);
  });
});

describe('queries read only the columns they select', () => {
  it('should load task rows without the columns nobody asked for, and no total nobody reads', async () => {
    let data: any;
    const { sql } = await countStatements(server.app, async () => {
      data = await server.gqlOk('{ workflows(first: 5) { edges { node { tasks { id name dependsOn { name } } } } } }', {}, server.adminToken);
    });
    const [tasks] = taskStatements(sql);
    expect(tasks).not.toContain('t.*');
    expect(tasks).not.toMatch(/queue|max_attempts|started_at|error/);
    expect(sql.some((s) => /count\(\*\)/.test(s))).toBe(false);
    const node = data.workflows.edges.find((e: any) => e.node.tasks.some((t: any) => t.name === 'c')).node;
    expect(node.tasks.map((t: any) => [t.name, t.dependsOn.map((d: any) => d.name)])).toEqual([['a', []], ['b', ['a']], ['c', ['a', 'b']]]);
  });

  it('should count the total when it is selected', async () => {
    const { sql } = await countStatements(server.app, () => server.gqlOk('{ workflows(first: 1) { totalCount } }', {}, server.adminToken));
    expect(sql.filter((s) => /count\(\*\)/.test(s))).toHaveLength(1);
  });

  it('should still filter and compute from columns the client did not select', async () => {
    const { workflow } = await server.gqlOk(
      'query ($id: ID!) { workflow(id: $id) { ready: tasks(status: [READY]) { name } all: tasks { name durationMs } } }',
      { id: workflowId },
      server.adminToken,
    );
    expect(workflow.ready).toEqual([{ name: 'a' }]);
    expect(workflow.all).toEqual([{ name: 'a', durationMs: null }, { name: 'b', durationMs: null }, { name: 'c', durationMs: null }]);
  });

  it('should read the columns of fields named like them, through node(id:) and fragments', async () => {
    const { node } = await server.gqlOk(
      'query ($id: ID!) { node(id: $id) { ... on Task { ...t workflow { name } } } } fragment t on Task { queue maxAttempts attempts status error startedAt }',
      { id: taskIds[0] },
      server.adminToken,
    );
    expect(node).toEqual({ queue: 'heavy', maxAttempts: 3, attempts: 0, status: 'READY', error: null, startedAt: null, workflow: { name: 'selected' } });
  });

  it('should load whole rows for mutations, whose services may read any column', async () => {
    const { sql } = await countStatements(server.app, () =>
      server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { tasks { name } } }', { id: workflowId }, server.adminToken),
    );
    expect(taskStatements(sql).every((s) => s.includes('t.*'))).toBe(true);
  });
});
