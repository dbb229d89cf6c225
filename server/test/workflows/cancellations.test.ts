/**
 * `taskCancelled(workerId:)` over a real WebSocket: a worker hears of the cancellation of the
 * attempt it runs as it happens, and of nothing else (other workers, other members' workflows,
 * tasks that were not running).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsForSuite, until } from '../support/live.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startedWorkflow } from '../support/workflows.js';
import type { EntityManager } from '../../src/db/orm.js';
import { expireDueAttempts } from '../../src/workflows/expiry.js';

const CANCELLED = 'subscription ($w: String!) { taskCancelled(workerId: $w) { taskId workflowId attempt } }';
const STOPPED = 'subscription ($w: String!) { taskCancelled(workerId: $w) { taskId attempt reason } }';
const CLAIM = 'mutation ($q: String!, $w: String) { claimTask(queue: $q, workerId: $w) { id attempts } }';
const open = clientsForSuite();

let server: TestServer;
let owner: { token: string };
let other: { token: string };

beforeAll(async () => {
  server = await startTestServer();
  owner = await server.newUser('MEMBER');
  other = await server.newUser('MEMBER');
});
afterAll(() => server?.stop());

const cancel = (id: string, token: string) => server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id }, token);

describe('taskCancelled', () => {
  it('should tell the worker holding a cancelled attempt, once, and nobody else', async () => {
    const mine = open(server, owner.token).subscribe(CANCELLED, { w: 'worker-a' });
    const otherWorker = open(server, owner.token).subscribe(CANCELLED, { w: 'worker-b' });
    const otherMember = open(server, other.token).subscribe(CANCELLED, { w: 'worker-a' });
    const admin = open(server, server.adminToken).subscribe(CANCELLED, { w: 'worker-a' });
    // Let the subscriptions start following before anything happens.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const workflow = await startedWorkflow(server, owner.token, [{ name: 'running', queue: 'cancel-live' }, { name: 'waiting', queue: 'cancel-live-wait', dependsOn: ['running'] }]);
    const claimed = (await server.gqlOk(CLAIM, { q: 'cancel-live', w: 'worker-a' }, owner.token)).claimTask;
    const b = await startedWorkflow(server, owner.token, [{ name: 'b', queue: 'cancel-live-b' }]);
    await server.gqlOk(CLAIM, { q: 'cancel-live-b', w: 'worker-b' }, owner.token);

    await cancel(workflow.id, owner.token);
    await until(() => mine.values.length === 1 && admin.values.length === 1, 'worker-a to hear of it');
    expect(mine.values[0].taskCancelled).toEqual({ taskId: claimed.id, workflowId: workflow.id, attempt: claimed.attempts });
    expect(admin.values[0]).toEqual(mine.values[0]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // One event only: the PENDING task cancelled with it was not running.
    expect(mine.values).toHaveLength(1);
    expect(otherWorker.values).toEqual([]);
    expect(otherMember.values).toEqual([]);

    await cancel(b.id, owner.token);
    await until(() => otherWorker.values.length === 1, 'worker-b to hear of its own');
    expect(mine.values).toHaveLength(1);
    expect([mine, otherWorker, otherMember, admin].flatMap((s) => s.errors)).toEqual([]);
  });

  it('should tell the worker holding an attempt the server ended, LOST or TIMED_OUT, with the reason', async () => {
    const mine = open(server, owner.token).subscribe(STOPPED, { w: 'worker-expiring' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await startedWorkflow(server, owner.token, [
      { name: 'lost', queue: 'stop-lost', maxAttempts: 2 },
      { name: 'slow', queue: 'stop-slow', timeoutSeconds: 1 },
    ]);
    const lost = (await server.gqlOk(CLAIM, { q: 'stop-lost', w: 'worker-expiring' }, owner.token)).claimTask;
    const slow = (await server.gqlOk(CLAIM, { q: 'stop-slow', w: 'worker-expiring' }, owner.token)).claimTask;
    const em = server.app.orm.em.fork() as EntityManager;
    // The lease of `lost` lapsed; `slow` runs past its timeoutSeconds; the leader's look ends both.
    await em.execute(`update tasks set lease_expires_at = now() - interval '1 second' where id = ?`, [Buffer.from(lost.id, 'base64url').toString().split(':')[1]]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await expireDueAttempts(server.app.services)).toBe(2);
    await until(() => mine.values.length === 2, 'both stops to be heard');
    const stops = Object.fromEntries(mine.values.map((v: any) => [v.taskCancelled.taskId, v.taskCancelled]));
    expect(stops[lost.id]).toEqual({ taskId: lost.id, attempt: 1, reason: 'LOST' });
    expect(stops[slow.id]).toEqual({ taskId: slow.id, attempt: 1, reason: 'TIMED_OUT' });
    expect(mine.errors).toEqual([]);
  });

  it('should refuse an empty or too long workerId with BAD_USER_INPUT naming it', async () => {
    for (const w of ['  ', 'x'.repeat(201)]) {
      const refused = open(server, owner.token).subscribe(CANCELLED, { w });
      await refused.done();
      expect(refused.errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((refused.errors[0].extensions as any).field).toBe('workerId');
    }
  });
});
