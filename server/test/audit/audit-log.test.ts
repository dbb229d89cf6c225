/**
 * The audit log against the real server: who did what with which credential from where, in
 * the transaction of the change (a refused or rolled-back mutation leaves no entry), secrets
 * never stored, readable by admins only, with filters and pages. That every mutation audits is
 * checked by the isolation matrix (test/app/isolation-matrix.test.ts), which runs them all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { newWorkflow } from '../support/workflows.js';

let server: TestServer;
let member: { id: string; email: string; token: string };
const ENTRY = 'id at actor { id email } credential action targetId ip details';

async function entries(filter = '', token = server.adminToken) {
  const data = await server.gqlOk(`{ auditLog(first: 100${filter}) { totalCount edges { node { ${ENTRY} } } } }`, {}, token);
  return data.auditLog.edges.map((edge: any) => edge.node);
}

const sql = (statement: string, params: unknown[] = []) => sqlOn(server.database.url, statement, params);

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  member = await server.newUser('MEMBER', 'auditor');
});
afterAll(async () => {
  await server?.stop();
});

describe('audit log', () => {
  it('should record a mutation with its actor, credential, target, client IP and input, newest first', async () => {
    const workflow = await newWorkflow(server, member.token, [{ name: 'one' }], 'audited');
    const [latest] = await entries();
    expect(latest).toMatchObject({
      action: 'createWorkflow',
      actor: { id: member.id, email: member.email },
      credential: 'session',
      targetId: workflow.id,
      ip: '127.0.0.1',
      details: { input: { name: 'audited', tasks: [{ name: 'one' }] } },
    });
    expect(Date.now() - Date.parse(latest.at)).toBeLessThan(60_000);
  });

  it("should name the API token's name as the credential", async () => {
    const { createApiToken: token } = await server.gqlOk('mutation { createApiToken(name: "ci deploy key") }', {}, member.token);
    const workflow = await newWorkflow(server, token, [], 'by token');
    await server.gqlOk('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: workflow.id }, token);
    const [deleted] = await entries(`, targetId: "${workflow.id}", action: "deleteWorkflow"`);
    expect(deleted).toMatchObject({ credential: 'ci deploy key', actor: { id: member.id }, targetId: workflow.id });
  });

  it('should record who signed in, over GraphQL and over /api/session, and never a password or token', async () => {
    await server.login(member.email, 'password-123');
    const response = await fetch(`${server.url}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: member.email, password: 'password-123' }),
    });
    expect(response.status).toBe(200);
    const logins = await entries(`, action: "login", actorId: "${member.id}"`);
    expect(logins.length).toBeGreaterThanOrEqual(3); // newUser signed in once too
    for (const entry of logins.slice(0, 2)) expect(entry).toMatchObject({ credential: 'session', details: { email: member.email, password: '[redacted]' } });
    const everything = JSON.stringify(await sql('select * from audit_log'));
    expect(everything).not.toContain('password-123');
    expect(everything).not.toMatch(/wf_(session|api)_/); // token prefixes: no token is ever stored
  });

  it('should write no entry for a refused mutation, nor for one whose transaction rolled back', async () => {
    const before = (await sql('select count(*)::int as n from audit_log'))[0].n;
    const viewer = await server.newUser('VIEWER');
    const afterViewer = (await sql('select count(*)::int as n from audit_log'))[0].n; // its createUser and login
    const refused = await server.gql('mutation { createWorkflow(input: { name: "nope", tasks: [] }) { id } }', {}, viewer.token);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const draft = await newWorkflow(server, member.token, [], 'draft');
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: draft.id }, member.token);
    // The second cancel throws inside mutate's transaction: rolled back, its entry with it.
    const again = await server.gql('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: draft.id }, member.token);
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(afterViewer - before).toBe(2);
    const cancels = await entries(`, targetId: "${draft.id}", action: "cancelWorkflow"`);
    expect(cancels).toHaveLength(1);
  });

  it('should redact secret-named arguments and cut long strings and lists', async () => {
    const long = 'x'.repeat(500);
    await server.gqlOk('mutation ($i: CreateWorkflowInput!) { createWorkflow(input: $i) { id } }', {
      i: { name: 'long', description: long, tasks: Array.from({ length: 30 }, (_, i) => ({ name: `t${i}` })) },
    }, member.token);
    const [entry] = await entries(', action: "createWorkflow"');
    expect(entry.details.input.description).toBe(`${'x'.repeat(200)}…`);
    expect(entry.details.input.tasks).toHaveLength(21);
    expect(entry.details.input.tasks.at(-1)).toBe('… 10 more');
    await server.gqlOk('mutation ($e: String!) { createUser(email: $e, name: "S", password: "hunter2-secret", role: VIEWER) { id } }', { e: `s-${Date.now()}@test.local` }, server.adminToken);
    const [created] = await entries(', action: "createUser"');
    expect(created.details.password).toBe('[redacted]');
  });

  it('should be readable by ADMIN only, page with cursors, and refuse bad filters', async () => {
    const denied = await server.gql('{ auditLog { totalCount } }', {}, member.token);
    expect(denied.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const anonymous = await server.gql('{ auditLog { totalCount } }');
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const admin = server.adminToken;
    const page = (await server.gqlOk('{ auditLog(first: 2) { totalCount pageInfo { endCursor hasNextPage } edges { node { id } } } }', {}, admin)).auditLog;
    expect(page.totalCount).toBeGreaterThan(4);
    const next = (await server.gqlOk('query ($a: String) { auditLog(first: 2, after: $a) { edges { node { id } } } }', { a: page.pageInfo.endCursor }, admin)).auditLog;
    expect(next.edges.map((e: any) => e.node.id)).not.toContain(page.edges[0].node.id);
    const [node] = page.edges;
    const fetched = await server.gqlOk('query ($id: ID!) { node(id: $id) { ... on AuditEntry { action } } }', { id: node.node.id }, admin);
    expect(fetched.node.action).toBeTruthy();
    expect((await server.gqlOk('query ($id: ID!) { node(id: $id) { id } }', { id: node.node.id }, member.token)).node).toBeNull();
    const bad = await server.gql('{ auditLog(actorId: "nope") { totalCount } }', {}, admin);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const otherCursor = await server.gql('{ auditLog(after: "WyJ3b3JrZmxvd3MiLCIyMDI2LTAxLTAxVDAwOjAwOjAwLjAwMFoiLCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXQ") { totalCount } }', {}, admin);
    expect(otherCursor.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('should prune entries past AUDIT_RETENTION_DAYS', async () => {
    const { pruneAuditLog } = await import('../../src/audit/service.js');
    await sql("update audit_log set at = now() - interval '400 days' where action = 'login'");
    const deleted = await pruneAuditLog(server.app.orm.em.fork() as any, 365);
    expect(deleted).toBeGreaterThan(0);
    expect(await entries(', action: "login"')).toEqual([]);
  });
});
