/**
 * Planned execution (graphql/planned.ts) against graphql-jit: two servers on one database, one
 * with plans (the default) and one with QUERY_PLANS=0, answer the same documents for each role;
 * every answer must be the same bytes. Documents that plans do not cover, and plans that give
 * up (errors, hidden objects), are among them.
 */
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAppSchema } from '../../src/app/schema.js';
import { planOutcomes } from '../../src/graphql/executor.js';
import { planQuery } from '../../src/graphql/planned.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { newWorkflow, startedWorkflow } from '../support/workflows.js';

let planned: TestServer;
let jit: TestServer;
const tokens: Record<string, string> = {};
let memberWorkflow = '';
let otherWorkflow = '';
let someTask = '';

const TASKS = [{ name: 'a' }, { name: 'b', dependsOn: ['a'] }, { name: 'c', dependsOn: ['b', 'a'], queue: 'q2', maxAttempts: 3 }, { name: 'd' }];

beforeAll(async () => {
  planned = await startTestServer();
  jit = await startTestServer({ QUERY_PLANS: '0' }, planned.database);
  tokens.admin = planned.adminToken;
  const member = await planned.newUser('MEMBER', 'member1');
  const other = await planned.newUser('MEMBER', 'member2');
  tokens.member = member.token;
  tokens.viewer = (await planned.newUser('VIEWER', 'viewer1')).token;
  for (let i = 0; i < 6; i++) {
    const owner = [member.token, other.token, planned.adminToken][i % 3];
    const workflow = i % 2 ? await startedWorkflow(planned, owner, TASKS, `wf-${i} "quoted" ünïcode`) : await newWorkflow(planned, owner, TASKS, `wf-${i}`);
    if (i === 0) memberWorkflow = workflow.id;
    if (i === 1) otherWorkflow = workflow.id;
    if (i === 0) someTask = workflow.tasks[2].id;
  }
  // One task running, so statuses, attempts and timestamps differ across tasks.
  await planned.gqlOk('mutation { claimTask(queues: ["default"], workerId: "w1") { id } }', {}, planned.adminToken);
});
afterAll(async () => {
  await jit?.stop();
  await planned?.stop();
});

/** planned: a plan covers it; answered: as which roles the plan answers it (else it gives up, or there is none). */
const DOCUMENTS: Array<{ name: string; query: string; variables?: () => Record<string, unknown>; planned: boolean; answered?: string[] }> = [
  {
    name: 'the dashboard query',
    planned: true,
    answered: ['admin', 'member', 'viewer'],
    query: `query Dashboard { workflows(first: 50) { edges { node { id name status owner { id name } tasks { id name status attempts dependsOn { id } } taskCounts { pending ready running succeeded failed cancelled total } } } } }`,
  },
  {
    name: 'every scalar kind, aliases, __typename, totalCount, cursors and pageInfo',
    planned: true,
    answered: ['admin', 'member', 'viewer'],
    query: `{ list: workflows(first: 4) { __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { __typename key: id name description status createdAt updatedAt startedAt finishedAt scheduledFor templateVersion template { id } schedule { id }
        owner { id name email role } tasks { id name status queue workerId attempts maxAttempts priority timeoutSeconds heartbeatTimeoutSeconds
          error errorType output heartbeatDetails lastHeartbeatAt leaseExpiresAt nextAttemptAt startedAt finishedAt durationMs workflow { id name } dependsOn { name queue } runs { attempt workerId outcome startedAt } } } } } }`,
  },
  {
    name: 'fragments, variables, arguments',
    planned: true,
    answered: ['admin', 'member', 'viewer'],
    variables: () => ({ n: 3, statuses: ['READY', 'PENDING'] }),
    query: `query Page($n: Int!, $statuses: [TaskStatus!]) { workflows(first: $n) { edges { node { ...W } } } }
      fragment W on Workflow { id ... on Workflow { name } tasks(status: $statuses) { ...T } }
      fragment T on Task { id status dependsOn { id } }`,
  },
  {
    name: 'a workflow by id, and one the viewer may not see (null)',
    planned: true,
    answered: ['admin', 'member', 'viewer'],
    variables: () => ({ mine: memberWorkflow, theirs: otherWorkflow }),
    query: `query ($mine: ID!, $theirs: ID!) { a: workflow(id: $mine) { id name tasks { name dependsOn { name } } } b: workflow(id: $theirs) { id name } }`,
  },
  {
    name: 'a task by id',
    planned: true,
    answered: ['admin', 'member', 'viewer'],
    variables: () => ({ id: someTask }),
    query: `query ($id: ID!) { task(id: $id) { id name status workflow { id owner { name } } dependsOn { id name } } }`,
  },
  {
    name: 'a page after a cursor',
    planned: true,
    answered: ['admin', 'member', 'viewer'],
    query: `{ workflows(first: 2) { edges { cursor } } }`,
  },
  { name: 'node(id:) (an interface: not planned)', planned: false, variables: () => ({ id: memberWorkflow }), query: `query ($id: ID!) { node(id: $id) { id ... on Workflow { name } } }` },
  { name: '@include (not planned)', planned: false, variables: () => ({ yes: false }), query: `query ($yes: Boolean!) { workflows(first: 2) { edges { node { id name @include(if: $yes) } } } }` },
  { name: 'a bad argument (the resolver refuses: the plan gives up)', planned: true, query: `{ workflows(first: 2, after: "not a cursor") { edges { node { id } } } }` },
  { name: 'a bad variable', planned: true, variables: () => ({ n: 'x' }), query: `query ($n: Int!) { workflows(first: $n) { edges { node { id } } } }` },
];

/** Both servers' answer bytes (status and body) for one document and token. */
async function both(query: string, variables: Record<string, unknown>, token: string | undefined) {
  const send = async (server: TestServer) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    // The request id differs between the two; nothing else may.
    return `${response.status} ${(await response.text()).replace(/"requestId":"[^"]*"/g, '"requestId":"…"')}`;
  };
  return { planned: await send(planned), jit: await send(jit) };
}

describe('planned execution', () => {
  it('should plan the documents it covers and leave the others to graphql-jit', async () => {
    const schema = await buildAppSchema();
    for (const doc of DOCUMENTS) expect(planQuery(schema, parse(doc.query), undefined) !== null, doc.name).toBe(doc.planned);
    expect(planQuery(schema, parse('mutation { deleteWorkflow(id: "x") }'), undefined)).toBeNull();
  });

  it('should answer every document with the same bytes as graphql-jit, for every role and anonymously', async () => {
    let compared = 0;
    for (const role of ['admin', 'member', 'viewer', 'anonymous']) {
      for (const doc of DOCUMENTS) {
        const before = planOutcomes.answered;
        const answers = await both(doc.query, doc.variables?.() ?? {}, tokens[role]);
        expect(answers.planned, `${doc.name} as ${role}`).toBe(answers.jit);
        // Both servers run in this process: only the planned one can answer by plan.
        expect(planOutcomes.answered - before, `${doc.name} as ${role}: answered by its plan`).toBe(doc.answered?.includes(role) ? 1 : 0);
        compared++;
      }
    }
    expect(compared).toBe(DOCUMENTS.length * 4);
    expect(planOutcomes.gaveUp).toBeGreaterThan(0);
    // The member's own answer is limited to its own workflows (not everyone's).
    const dashboard = DOCUMENTS[0].query;
    const mine = JSON.parse((await both(dashboard, {}, tokens.member)).planned.slice(4));
    const all = JSON.parse((await both(dashboard, {}, tokens.admin)).planned.slice(4));
    expect(mine.data.workflows.edges).toHaveLength(2);
    expect(all.data.workflows.edges).toHaveLength(6);
  });

  it('should send the same statements as graphql-jit', async () => {
    const dashboard = DOCUMENTS[1].query;
    await planned.gqlOk(dashboard, {}, tokens.admin);
    await jit.gqlOk(dashboard, {}, tokens.admin);
    const a = await countStatements(planned.app, () => planned.gqlOk(dashboard, {}, tokens.admin));
    const b = await countStatements(jit.app, () => jit.gqlOk(dashboard, {}, tokens.admin));
    expect(a.sql).toEqual(b.sql);
    expect(a.count).toBeLessThanOrEqual(5);
  });
});
