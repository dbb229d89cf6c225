/**
 * Templates against the real server: each update is a new immutable version, a run is pinned to
 * the version it ran (and started), bad graphs are refused as createWorkflow refuses them, a
 * member sees and runs only its own, and runs and creates honour idempotency keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlOn } from '../support/database.js';
import { countStatements } from '../support/statements.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let member: { id: string; token: string };
let other: { id: string; token: string };
let viewer: { id: string; token: string };

const TEMPLATE = 'id name description latestVersion owner { id } versions { version name tasks { name dependsOn queue maxAttempts priority } createdBy { id } }';
const RUN = `mutation ($id: ID!, $v: Int, $n: String) { runTemplate(id: $id, version: $v, name: $n) { id name status templateVersion template { id latestVersion } tasks { name status queue } } }`;

async function createTemplate(token: string, input: Record<string, unknown>) {
  return (await server.gqlOk(`mutation ($i: TemplateInput!) { createTemplate(input: $i) { ${TEMPLATE} } }`, { i: input }, token)).createTemplate;
}
const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  member = await server.newUser('MEMBER', 'templater');
  other = await server.newUser('MEMBER', 'other');
  viewer = await server.newUser('VIEWER', 'reader');
});
afterAll(async () => {
  await server?.stop();
});

describe('templates', () => {
  it('should keep every version and pin each run to the version it ran', async () => {
    const created = await createTemplate(member.token, { name: 'nightly', tasks: [{ name: 'extract' }, { name: 'load', dependsOn: ['extract'], queue: 'etl' }] });
    expect(created).toMatchObject({ name: 'nightly', latestVersion: 1, owner: { id: member.id } });
    expect(created.versions).toEqual([{ version: 1, name: 'nightly', createdBy: { id: member.id }, tasks: [
      { name: 'extract', dependsOn: [], queue: 'default', maxAttempts: 1, priority: 0 },
      { name: 'load', dependsOn: ['extract'], queue: 'etl', maxAttempts: 1, priority: 0 },
    ] }]);
    const updated = (await server.gqlOk(`mutation ($id: ID!, $i: TemplateInput!) { updateTemplate(id: $id, input: $i) { ${TEMPLATE} } }`, {
      id: created.id, i: { name: 'nightly v2', description: 'adds a check', tasks: [{ name: 'extract' }, { name: 'check', dependsOn: ['extract'] }] },
    }, member.token)).updateTemplate;
    expect(updated).toMatchObject({ id: created.id, name: 'nightly v2', description: 'adds a check', latestVersion: 2 });
    expect(updated.versions.map((v: any) => [v.version, v.tasks.map((t: any) => t.name)])).toEqual([[2, ['extract', 'check']], [1, ['extract', 'load']]]);

    const latest = (await server.gqlOk(RUN, { id: created.id }, member.token)).runTemplate;
    expect(latest).toMatchObject({ name: 'nightly v2', status: 'PENDING', templateVersion: 2, template: { id: created.id, latestVersion: 2 } });
    expect(latest.tasks.map((t: any) => [t.name, t.status])).toEqual([['extract', 'READY'], ['check', 'PENDING']]);
    const pinned = (await server.gqlOk(RUN, { id: created.id, v: 1, n: 'rerun of v1' }, member.token)).runTemplate;
    expect(pinned).toMatchObject({ name: 'rerun of v1', templateVersion: 1 });
    expect(pinned.tasks.map((t: any) => [t.name, t.queue])).toEqual([['extract', 'default'], ['load', 'etl']]);

    // A third version changes neither run.
    await server.gqlOk('mutation ($id: ID!) { updateTemplate(id: $id, input: { name: "v3", tasks: [] }) { latestVersion } }', { id: created.id }, member.token);
    const again = (await server.gqlOk('query ($id: ID!) { workflow(id: $id) { templateVersion tasks { name } } }', { id: pinned.id }, member.token)).workflow;
    expect(again).toEqual({ templateVersion: 1, tasks: [{ name: 'extract' }, { name: 'load' }] });
  });

  it('should refuse graphs createWorkflow refuses, and unknown versions, naming the field', async () => {
    const bad = async (input: Record<string, unknown>) => codeOf(await server.gql('mutation ($i: TemplateInput!) { createTemplate(input: $i) { id } }', { i: input }, member.token));
    expect(await bad({ name: 'cycle', tasks: [{ name: 'a', dependsOn: ['b'] }, { name: 'b', dependsOn: ['a'] }] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tasks' });
    expect(await bad({ name: 'twice', tasks: [{ name: 'a' }, { name: 'a' }] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tasks' });
    expect(await bad({ name: ' ', tasks: [] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(await bad({ name: 'q', tasks: [{ name: 'a', queue: 'no spaces' }] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tasks[0].queue' });
    expect(await bad({ name: 'big', tasks: Array.from({ length: 1001 }, (_, i) => ({ name: `t${i}` })) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tasks' });
    const template = await createTemplate(member.token, { name: 'one', tasks: [{ name: 'a' }] });
    const update = await server.gql('mutation ($id: ID!) { updateTemplate(id: $id, input: { name: "x", tasks: [{ name: "a", dependsOn: ["a"] }] }) { id } }', { id: template.id }, member.token);
    expect(codeOf(update)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tasks' });
    for (const version of [0, 2, -1]) expect(codeOf(await server.gql(RUN, { id: template.id, v: version }, member.token))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'version' });
    expect(codeOf(await server.gql(RUN, { id: template.id, n: '' }, member.token))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(codeOf(await server.gql(RUN, { id: 'nope' }, member.token))).toMatchObject({ code: 'BAD_USER_INPUT' });
    // The refused update made no version.
    expect((await server.gqlOk('query ($id: ID!) { template(id: $id) { latestVersion } }', { id: template.id }, member.token)).template.latestVersion).toBe(1);
  });

  it("should hide a member's templates from other members, and let viewers read but not run them", async () => {
    const mine = await createTemplate(member.token, { name: 'private', tasks: [] });
    expect((await server.gqlOk('query ($id: ID!) { template(id: $id) { id } }', { id: mine.id }, other.token)).template).toBeNull();
    expect((await server.gqlOk('query ($id: ID!) { node(id: $id) { id } }', { id: mine.id }, other.token)).node).toBeNull();
    const list = (await server.gqlOk('{ templates(first: 100) { totalCount edges { node { id } } } }', {}, other.token)).templates;
    expect(list.edges.map((e: any) => e.node.id)).not.toContain(mine.id);
    for (const mutation of [RUN, 'mutation ($id: ID!) { deleteTemplate(id: $id) }', 'mutation ($id: ID!) { updateTemplate(id: $id, input: { name: "x", tasks: [] }) { id } }']) {
      expect(codeOf(await server.gql(mutation, { id: mine.id }, other.token))?.code).toBe('NOT_FOUND');
      expect(codeOf(await server.gql(mutation, { id: mine.id }, viewer.token))?.code).toBe('FORBIDDEN');
    }
    expect((await server.gqlOk('query ($id: ID!) { template(id: $id) { name } }', { id: mine.id }, viewer.token)).template.name).toBe('private');
    const admin = (await server.gqlOk(RUN, { id: mine.id }, server.adminToken)).runTemplate;
    expect(admin.templateVersion).toBe(1);
  });

  it('should page templates newest first', async () => {
    const pager = await server.newUser('MEMBER', 'pager');
    const made = [];
    for (const name of ['p1', 'p2', 'p3']) made.push((await createTemplate(pager.token, { name, tasks: [] })).id);
    const page = (await server.gqlOk('{ templates(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }', {}, pager.token)).templates;
    expect(page).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    expect(page.edges.map((e: any) => e.node.name)).toEqual(['p3', 'p2']);
    const next = (await server.gqlOk('query ($a: String) { templates(first: 2, after: $a) { edges { node { name } } } }', { a: page.pageInfo.endCursor }, pager.token)).templates;
    expect(next.edges.map((e: any) => e.node.name)).toEqual(['p1']);
  });

  it('should list the newest `first` versions of every template on a page in one statement, whatever the page size', async () => {
    const lister = await server.newUser('MEMBER', 'lister');
    for (let t = 0; t < 6; t++) {
      const { id } = await createTemplate(lister.token, { name: `listed ${t}`, tasks: [{ name: 'a' }] });
      for (let v = 2; v <= 3; v++) await server.gqlOk('mutation ($id: ID!, $i: TemplateInput!) { updateTemplate(id: $id, input: $i) { id } }', { id, i: { name: `listed ${t}`, tasks: [{ name: `v${v}` }] } }, lister.token);
    }
    const LIST = 'query ($n: Int!, $v: Int) { templates(first: $n) { edges { node { name latestVersion versions(first: $v) { version tasks { name } } all: versions { version } } } } }';
    let two: any;
    let six: any;
    const few = await countStatements(server.app, async () => (two = (await server.gqlOk(LIST, { n: 2, v: 2 }, lister.token)).templates));
    const many = await countStatements(server.app, async () => (six = (await server.gqlOk(LIST, { n: 6, v: 1 }, lister.token)).templates));
    expect(two.edges[0].node.versions).toEqual([{ version: 3, tasks: [{ name: 'v3' }] }, { version: 2, tasks: [{ name: 'v2' }] }]);
    expect(two.edges[0].node.all.map((v: any) => v.version)).toEqual([3, 2, 1]);
    expect(six.edges.map((e: any) => e.node.versions.map((v: any) => v.version))).toEqual(Array(6).fill([3]));
    // Both `versions` fields of every template on the page: one statement.
    expect(many.count).toBe(few.count);
    expect(many.sql.filter((q) => q.includes('template_versions'))).toHaveLength(1);
    for (const first of [0, 101]) {
      expect(codeOf(await server.gql(LIST, { n: 1, v: first }, lister.token))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    }
  });

  it('should delete a template and keep the workflows run from it', async () => {
    const template = await createTemplate(member.token, { name: 'doomed', tasks: [{ name: 'a' }] });
    const run = (await server.gqlOk(RUN, { id: template.id }, member.token)).runTemplate;
    expect((await server.gqlOk('mutation ($id: ID!) { deleteTemplate(id: $id) }', { id: template.id }, member.token)).deleteTemplate).toBe(template.id);
    const after = (await server.gqlOk('query ($id: ID!) { workflow(id: $id) { name templateVersion template { id } } }', { id: run.id }, member.token)).workflow;
    expect(after).toEqual({ name: 'doomed', templateVersion: 1, template: null });
    expect(codeOf(await server.gql(RUN, { id: template.id }, member.token))?.code).toBe('NOT_FOUND');
    expect(await sqlOn(server.database.url, 'select count(*)::int as n from template_versions v join workflow_templates t on t.id = v.template_id where t.name = $1', ['doomed'])).toEqual([{ n: 0 }]);
  });

  it('should answer a retried runTemplate or createTemplate with what the first made', async () => {
    const template = await createTemplate(member.token, { name: 'keyed', tasks: [{ name: 'a' }] });
    const post = async (query: string, variables: Record<string, unknown>, key: string) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${member.token}`, 'idempotency-key': key },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: any; errors?: any[] };
    };
    const runs = await Promise.all([1, 2, 3].map(() => post(RUN, { id: template.id }, 'run-key')));
    expect(new Set(runs.map((r) => r.data?.runTemplate?.id)).size).toBe(1);
    const count = async () => (await sqlOn(server.database.url, "select count(*)::int as n from workflows where name = 'keyed'"))[0].n;
    expect(await count()).toBe(1);
    // The key as an argument (WebSocket callers), and another input with it: CONFLICT.
    const byArg = await server.gqlOk('mutation ($id: ID!) { runTemplate(id: $id, idempotencyKey: "arg-key") { id } }', { id: template.id }, member.token);
    const byArgAgain = await server.gqlOk('mutation ($id: ID!) { runTemplate(id: $id, idempotencyKey: "arg-key") { id } }', { id: template.id }, member.token);
    expect(byArgAgain.runTemplate.id).toBe(byArg.runTemplate.id);
    expect(codeOf(await server.gql('mutation ($id: ID!) { runTemplate(id: $id, name: "other", idempotencyKey: "arg-key") { id } }', { id: template.id }, member.token))?.code).toBe('CONFLICT');
    expect(await count()).toBe(2);
    const first = await post('mutation { createTemplate(input: { name: "made once", tasks: [] }) { id } }', {}, 'create-key');
    const second = await post('mutation { createTemplate(input: { name: "made once", tasks: [] }) { id } }', {}, 'create-key');
    expect(second.data.createTemplate.id).toBe(first.data.createTemplate.id);
  });
});
