/**
 * Bulk actions against the real server: a dry run counts, a real run changes what the filter
 * matches and the viewer may change (a member's never touches another's), through the same
 * lifecycle with events and an audit entry per workflow; it runs in transactions of 100 and at
 * most 1,000 per call; a failing batch rolls back alone and a second call carries on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { claim, startedWorkflow } from '../support/workflows.js';

let server: TestServer;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
const BULK = 'mutation ($f: WorkflowFilter!, $a: BulkAction!, $d: Boolean) { bulkWorkflows(filter: $f, action: $a, dryRun: $d) { matched changed dryRun } }';
const sql = (statement: string, params: unknown[] = []) => sqlOn(server.database.url, statement, params);
const uuid = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

async function bulk(token: string, filter: Record<string, unknown>, action: string, dryRun?: boolean) {
  return server.gql(BULK, { f: filter, a: action, d: dryRun ?? null }, token);
}

/** `count` DRAFT workflows of `owner` named `name`, straight into the table, created a millisecond apart in order. */
async function drafts(ownerId: string, name: string, count: number) {
  await sql(
    `insert into workflows (owner_id, name, status, created_at, updated_at)
     select $1, $2 || '-' || lpad(i::text, 5, '0'), 'DRAFT', now() + i * interval '1 millisecond', now() from generate_series(1, $3) i`,
    [uuid(ownerId), name, count],
  );
}

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  alice = await server.newUser('MEMBER', 'alice');
  bob = await server.newUser('MEMBER', 'bob');
});
afterAll(async () => {
  await server?.stop();
});

describe('bulkWorkflows', () => {
  it("should count on a dry run, then cancel only the viewer's matching workflows, with events and audit entries", async () => {
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await startedWorkflow(server, alice.token, [{ name: 'a', queue: `bulk-q${i}` }], `nightly ${i}`));
    const other = await startedWorkflow(server, bob.token, [{ name: 'a' }], 'nightly of bob');
    expect((await bulk(alice.token, { search: 'nightly' }, 'CANCEL', true)).data.bulkWorkflows).toEqual({ matched: 3, changed: 0, dryRun: true });
    expect((await bulk(server.adminToken, { search: 'nightly' }, 'CANCEL', true)).data.bulkWorkflows.matched).toBe(4);
    // Another member's owner filter matches nothing of the viewer's; a viewer may not act at all.
    expect((await bulk(alice.token, { ownerId: bob.id }, 'CANCEL', true)).data.bulkWorkflows.matched).toBe(0);
    const viewer = await server.newUser('VIEWER');
    expect((await bulk(viewer.token, {}, 'CANCEL', true)).errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const eventsBefore = (await sql("select count(*)::int as n from events where topic = 'workflow' and kind = 'UPDATED'"))[0].n;
    expect((await bulk(alice.token, { search: 'nightly' }, 'CANCEL')).data.bulkWorkflows).toEqual({ matched: 3, changed: 3, dryRun: false });
    const statuses = await sql('select name, status from workflows where name like $1 order by name', ['nightly%']);
    expect(statuses).toEqual([
      { name: 'nightly 0', status: 'CANCELLED' }, { name: 'nightly 1', status: 'CANCELLED' }, { name: 'nightly 2', status: 'CANCELLED' },
      { name: 'nightly of bob', status: 'PENDING' },
    ]);
    expect((await sql("select count(*)::int as n from events where topic = 'workflow' and kind = 'UPDATED'"))[0].n - eventsBefore).toBe(3);
    const entries = (await server.gqlOk('{ auditLog(first: 100) { edges { node { action targetId actor { id } details } } } }', {}, server.adminToken)).auditLog.edges.map((e: any) => e.node);
    const perWorkflow = entries.filter((e: any) => e.action === 'bulkWorkflows.CANCEL');
    expect(perWorkflow.map((e: any) => e.targetId).sort()).toEqual(mine.map((w) => w.id).sort());
    expect(perWorkflow.every((e: any) => e.actor.id === alice.id && e.details.filter.search === 'nightly')).toBe(true);
    expect(entries.filter((e: any) => e.action === 'bulkWorkflows')).toHaveLength(1);
    expect((await sql('select status from workflows where id = $1', [uuid(other.id)]))[0].status).toBe('PENDING');
  });

  it('should retry failed workflows and delete by status', async () => {
    const failed = [];
    for (let i = 0; i < 2; i++) {
      const workflow = await startedWorkflow(server, alice.token, [{ name: 'a', queue: `retry-q${i}` }, { name: 'b', dependsOn: ['a'], queue: `retry-q${i}` }], `flaky ${i}`);
      const task = await claim(server, alice.token, `retry-q${i}`);
      await server.gqlOk('mutation ($id: ID!) { failTask(id: $id, error: "boom") { id } }', { id: task!.id }, alice.token);
      failed.push(workflow);
    }
    expect((await bulk(alice.token, { status: ['FAILED'] }, 'RETRY_FAILED')).data.bulkWorkflows).toEqual({ matched: 2, changed: 2, dryRun: false });
    const after = await sql("select w.status, array_agg(t.status order by t.position) as tasks from workflows w join tasks t on t.workflow_id = w.id where w.name like 'flaky%' group by w.id, w.status");
    expect(after).toEqual([{ status: 'RUNNING', tasks: ['READY', 'PENDING'] }, { status: 'RUNNING', tasks: ['READY', 'PENDING'] }]);
    expect((await bulk(alice.token, { status: ['CANCELLED'], search: 'nightly' }, 'DELETE')).data.bulkWorkflows.changed).toBe(3);
    expect((await sql("select count(*)::int as n from workflows where name like 'nightly%'"))[0].n).toBe(1);
  });

  it('should work in transactions of 100 and change at most 1,000 a call', async () => {
    await drafts(bob.id, 'many', 1050);
    const first = (await bulk(bob.token, { search: 'many-', status: ['DRAFT'] }, 'CANCEL')).data.bulkWorkflows;
    expect(first).toEqual({ matched: 1050, changed: 1000, dryRun: false });
    // Each batch's entries carry its transaction's time: ten transactions.
    const [{ transactions }] = await sql("select count(distinct at)::int as transactions from audit_log where action = 'bulkWorkflows.CANCEL' and actor_id = $1", [uuid(bob.id)]);
    expect(transactions).toBe(10);
    // Oldest first: the newest 50 wait for the next call.
    expect(await sql("select min(name) as first from workflows where name like 'many-%' and status = 'DRAFT'")).toEqual([{ first: 'many-01001' }]);
    expect((await bulk(bob.token, { search: 'many-', status: ['DRAFT'] }, 'CANCEL')).data.bulkWorkflows).toEqual({ matched: 50, changed: 50, dryRun: false });
  });

  it('should change at most `limit` a call, oldest first, so a caller can go batch by batch', async () => {
    await drafts(alice.id, 'stepwise', 25);
    const LIMITED = 'mutation ($f: WorkflowFilter!, $l: Int) { bulkWorkflows(filter: $f, action: CANCEL, limit: $l) { matched changed } }';
    const step = async (limit: number) => (await server.gqlOk(LIMITED, { f: { search: 'stepwise-' }, l: limit }, alice.token)).bulkWorkflows;
    expect(await step(10)).toEqual({ matched: 25, changed: 10 });
    expect(await sql("select min(name) as first from workflows where name like 'stepwise-%' and status = 'DRAFT'")).toEqual([{ first: 'stepwise-00011' }]);
    expect(await step(10)).toEqual({ matched: 15, changed: 10 });
    expect(await step(10)).toEqual({ matched: 5, changed: 5 });
    for (const limit of [0, 1001]) {
      const refused = await server.gql(LIMITED, { f: { search: 'stepwise-' }, l: limit }, alice.token);
      expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'limit' });
    }
  });

  it('should keep the batches done before one that fails, and carry on when called again', async () => {
    await drafts(alice.id, 'partial', 250);
    // The 150th workflow cannot be changed: its batch (the second) fails and rolls back, the first stays done.
    await sql(`create function refuse_poison() returns trigger language plpgsql as $$ begin
                 if new.name = 'partial-00150' and new.status = 'CANCELLED' then raise exception 'poisoned'; end if; return new; end $$`);
    await sql('create trigger poison before update on workflows for each row execute function refuse_poison()');
    const failed = await bulk(alice.token, { search: 'partial-' }, 'CANCEL');
    expect(failed.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const counts = await sql("select status, count(*)::int as n from workflows where name like 'partial-%' group by status order by status");
    expect(counts).toEqual([{ status: 'CANCELLED', n: 100 }, { status: 'DRAFT', n: 150 }]);
    await sql('drop trigger poison on workflows; drop function refuse_poison()');
    expect((await bulk(alice.token, { search: 'partial-' }, 'CANCEL')).data.bulkWorkflows).toEqual({ matched: 150, changed: 150, dryRun: false });
  });

  it('should refuse a filter that matches nothing, and bad filters, naming the field', async () => {
    expect((await bulk(alice.token, { search: 'no such workflow' }, 'DELETE')).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter' });
    expect((await bulk(alice.token, { createdAfter: '2026-02-01T00:00:00Z', createdBefore: '2026-01-01T00:00:00Z' }, 'CANCEL', true)).errors?.[0].extensions)
      .toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.createdBefore' });
    expect((await bulk(alice.token, { ownerId: 'nope' }, 'CANCEL', true)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.ownerId' });
    expect((await bulk(alice.token, { templateId: alice.id }, 'CANCEL', true)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.templateId' });
    expect((await bulk(alice.token, {}, 'EVERYTHING', true)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    // A dry run of nothing just says so.
    expect((await bulk(alice.token, { search: 'no such workflow' }, 'DELETE', true)).data.bulkWorkflows).toEqual({ matched: 0, changed: 0, dryRun: true });
  });
});
