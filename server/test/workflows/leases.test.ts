/**
 * Leases, heartbeats, priorities, outputs and the bad input workers can send (issue 14), over
 * real HTTP. The expiry job is run by hand here (expireDueAttempts); expiry.test.ts runs it as
 * the leader does, with real processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireDueAttempts } from '../../src/workflows/expiry.js';
import { claimingStatement } from '../../src/workflows/lifecycle.js';
import { claimStatement } from '../../src/workflows/task-service.js';
import { uuidOf } from '../support/replica-pair.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { getWorkflow, startedWorkflow, type TaskSpec } from '../support/workflows.js';

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = (await server.newUser('MEMBER')).token;
});
afterAll(() => server?.stop());

const TASK = 'id name status attempts priority timeoutSeconds heartbeatTimeoutSeconds leaseExpiresAt lastHeartbeatAt heartbeatDetails workerId error errorType output';

type Spec = TaskSpec & { priority?: number; timeoutSeconds?: number; heartbeatTimeoutSeconds?: number };
const started = (tasks: Spec[]) => startedWorkflow(server, token, tasks as TaskSpec[]);

const claimAs = async (args: { queue?: string; queues?: readonly string[]; workerId?: string }, as = token) =>
  server.gql(`mutation ($queue: String, $queues: [String!], $workerId: String) { claimTask(queue: $queue, queues: $queues, workerId: $workerId) { ${TASK} } }`, args, as);
const claimed = async (args: { queue?: string; queues?: readonly string[]; workerId?: string }) => {
  const result = await claimAs(args);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data.claimTask;
};
const heartbeat = (id: string, attempt: number, details?: unknown, as = token) =>
  server.gql(`mutation ($id: ID!, $attempt: Int!, $details: JSON) { heartbeatTask(id: $id, attempt: $attempt, details: $details) { ${TASK} } }`, { id, attempt, details }, as);
const complete = (id: string, attempt?: number, output?: unknown) =>
  server.gql(`mutation ($id: ID!, $attempt: Int, $output: JSON) { completeTask(id: $id, attempt: $attempt, output: $output) { ${TASK} } }`, { id, attempt, output }, token);
const fail = (id: string, attempt?: number, errorType?: string, error = 'boom') =>
  server.gql(`mutation ($id: ID!, $attempt: Int, $errorType: String, $error: String!) { failTask(id: $id, attempt: $attempt, errorType: $errorType, error: $error) { ${TASK} } }`, { id, attempt, errorType, error }, token);
const task = async (id: string) => (await server.gqlOk(`query ($id: ID!) { task(id: $id) { ${TASK} } }`, { id }, token)).task;
const code = (result: { errors?: Array<{ extensions?: { code?: string } }> }) => result.errors?.[0]?.extensions?.code;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits out a lease of `seconds`, then runs the expiry as the leader would. */
const expireAfter = async (seconds: number) => {
  await sleep(seconds * 1000 + 150);
  return expireDueAttempts(server.app.services);
};

describe('claimTask leases', () => {
  it('should give the attempt a lease of heartbeatTimeoutSeconds, the worker id, and defaults for the new fields', async () => {
    await started([{ name: 'leased', queue: 'l-lease', heartbeatTimeoutSeconds: 60 }, { name: 'plain', queue: 'l-lease-default' }]);
    const before = Date.now();
    const leased = await claimed({ queue: 'l-lease', workerId: ' worker-7 ' });
    expect(leased).toMatchObject({ status: 'RUNNING', attempts: 1, workerId: 'worker-7', heartbeatTimeoutSeconds: 60, priority: 0, timeoutSeconds: null, lastHeartbeatAt: null });
    const lease = new Date(leased.leaseExpiresAt).getTime();
    expect(lease).toBeGreaterThan(before + 58_000);
    expect(lease).toBeLessThan(Date.now() + 61_000);
    const plain = await claimed({ queue: 'l-lease-default' });
    expect(plain).toMatchObject({ heartbeatTimeoutSeconds: 300, workerId: null });
  });

  it('should hand out higher priority first, then the oldest READY, across the queues asked for', async () => {
    await started([{ name: 'low', queue: 'p-a', priority: -1 }, { name: 'normal', queue: 'p-b' }, { name: 'urgent-1', queue: 'p-a', priority: 5 }]);
    await started([{ name: 'urgent-2', queue: 'p-b', priority: 5 }, { name: 'elsewhere', queue: 'p-c', priority: 100 }]);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await claimed({ queues: ['p-a', 'p-b'] })).name);
    expect(order).toEqual(['urgent-1', 'urgent-2', 'normal', 'low']);
    expect(await claimed({ queues: ['p-a', 'p-b'] })).toBeNull();
    // queue and queues together: both count.
    expect((await claimed({ queue: 'p-c', queues: ['p-a'] })).name).toBe('elsewhere');
  });

  it('should starve low priority while higher is always READY (strict priority, as documented), and not a task of its own queue', async () => {
    await started([{ name: 'low', queue: 's-shared', priority: -5 }, { name: 'own-low', queue: 's-own', priority: -5 }]);
    const handedOut: string[] = [];
    // Constant high-priority load: a new urgent task is READY before every claim.
    for (let i = 0; i < 20; i++) {
      await started([{ name: `urgent-${i}`, queue: 's-shared', priority: 10 }]);
      handedOut.push((await claimed({ queues: ['s-shared'] })).name);
    }
    expect(handedOut).toEqual(Array.from({ length: 20 }, (_, i) => `urgent-${i}`));
    // A worker of its own queue is not held up by the load elsewhere…
    expect((await claimed({ queues: ['s-own'] })).name).toBe('own-low');
    // …and the starved task runs as soon as nothing higher is READY.
    expect((await claimed({ queues: ['s-shared'] })).name).toBe('low');
  });

  it('should serve every form of the claim from an index in claim order, with no sort', async () => {
    // Enough READY rows that a sequential scan and a sort would be the cheaper plan without the indexes.
    const em = server.app.orm.em.fork();
    const [{ id: workflowId }] = await em.execute(`insert into workflows (owner_id, name, status) select id, 'bulk', 'RUNNING' from users limit 1 returning id`);
    await em.execute(`insert into tasks (workflow_id, name, position, status, queue, priority, ready_at)
      select ?, 'bulk-' || i, i, 'READY', 'bulk-' || (i % 20), i % 7, now() - i * interval '1 second' from generate_series(1, 20000) i`, [workflowId]);
    await em.execute('analyze tasks');
    for (const [queues, index] of [[['bulk-3'], 'tasks_claim_queue_idx'], [['bulk-3', 'bulk-4'], 'tasks_claim_any_idx'], [null, 'tasks_claim_any_idx']] as const) {
      const { sql, params } = claimStatement(queues, null);
      const plan = (await em.execute(`explain ${sql}`, params)).map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
      console.log(`claim plan, queues ${JSON.stringify(queues)}:\n${plan}`);
      expect(plan, plan).toContain(index);
      expect(plan, plan).not.toMatch(/Sort|Seq Scan on tasks/);
    }
    // The whole claim as a worker sends it (claimTasks of 16): still one statement, the pick an index scan under LockRows.
    const claim = claimingStatement(claimStatement(['bulk-3'], null, 16), 'w');
    const plan = (await em.execute(`explain ${claim.sql}`, claim.params)).map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    console.log(`claiming statement plan, claimTasks(limit: 16, queues: ["bulk-3"]):\n${plan}`);
    expect(plan, plan).toMatch(/LockRows[\s\S]*Index Scan using tasks_claim_queue_idx/);
    expect(plan, plan).not.toMatch(/Sort|Seq Scan on tasks/);
    await em.execute('delete from workflows where id = ?', [workflowId]);
  });
});

describe('heartbeatTask', () => {
  it('should extend the lease and keep the details, without an event', async () => {
    await started([{ name: 'beating', queue: 'h-beat', heartbeatTimeoutSeconds: 30 }]);
    const running = await claimed({ queue: 'h-beat' });
    const [{ n: eventsBefore }] = await server.app.orm.em.fork().execute('select count(*)::int as n from events');
    await sleep(50);
    const beat = await heartbeat(running.id, 1, { progress: 0.5, step: 'copy' });
    expect(beat.errors).toBeUndefined();
    expect(beat.data.heartbeatTask).toMatchObject({ status: 'RUNNING', heartbeatDetails: { progress: 0.5, step: 'copy' } });
    expect(new Date(beat.data.heartbeatTask.leaseExpiresAt).getTime()).toBeGreaterThan(new Date(running.leaseExpiresAt).getTime());
    expect(beat.data.heartbeatTask.lastHeartbeatAt).toBeTruthy();
    const [{ n: eventsAfter }] = await server.app.orm.em.fork().execute('select count(*)::int as n from events');
    expect(eventsAfter).toBe(eventsBefore);
  });

  it('should answer CANCELLED once the workflow was cancelled, so the worker stops', async () => {
    const workflow = await started([{ name: 'doomed', queue: 'h-cancel' }]);
    const running = await claimed({ queue: 'h-cancel' });
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: workflow.id }, token);
    const beat = await heartbeat(running.id, 1);
    expect(beat.errors).toBeUndefined();
    expect(beat.data.heartbeatTask.status).toBe('CANCELLED');
    expect(code(await complete(running.id, 1))).toBe('CONFLICT');
  });

  it('should keep a heart-beaten attempt alive past its first lease', async () => {
    await started([{ name: 'kept', queue: 'h-kept', heartbeatTimeoutSeconds: 1 }]);
    const running = await claimed({ queue: 'h-kept' });
    for (let i = 0; i < 3; i++) {
      await sleep(500);
      expect(code(await heartbeat(running.id, 1))).toBeUndefined();
      await expireDueAttempts(server.app.services);
      expect((await task(running.id)).status).toBe('RUNNING');
    }
    await complete(running.id, 1);
  });
});

describe('lost and timed-out attempts', () => {
  it('should return a lapsed lease as LOST, READY again, and refuse the old attempt with CONFLICT "lease lost"', async () => {
    await started([{ name: 'orphan', queue: 'x-lost', heartbeatTimeoutSeconds: 1, maxAttempts: 3 }]);
    const first = await claimed({ queue: 'x-lost', workerId: 'dead-worker' });
    expect(await expireAfter(1)).toBeGreaterThanOrEqual(1);
    const lost = await task(first.id);
    expect(lost).toMatchObject({ status: 'READY', attempts: 1, errorType: 'LOST', leaseExpiresAt: null });
    expect(lost.error).toMatch(/^Lost: attempt 1 had no heartbeat for heartbeatTimeoutSeconds \(1 s\) from worker "dead-worker"$/);
    // Returned, not yet taken: the old worker is still refused.
    expect((await heartbeat(first.id, 1)).errors?.[0].message).toMatch(/^Lease lost: attempt 1 of task "orphan"/);

    const second = await claimed({ queue: 'x-lost', workerId: 'new-worker' });
    expect(second).toMatchObject({ id: first.id, attempts: 2, workerId: 'new-worker' });
    for (const late of [await complete(first.id, 1, { stale: true }), await fail(first.id, 1), await heartbeat(first.id, 1)]) {
      expect(code(late)).toBe('CONFLICT');
      expect(late.errors?.[0].message).toMatch(/^Lease lost/);
    }
    // Nothing the old worker sent landed.
    expect(await task(first.id)).toMatchObject({ status: 'RUNNING', attempts: 2, workerId: 'new-worker', output: null });
    const done = await complete(first.id, 2, { rows: 3 });
    expect(done.data.completeTask).toMatchObject({ status: 'SUCCEEDED', output: { rows: 3 } });
  });

  it('should end an attempt that runs past timeoutSeconds as TIMED_OUT even while it heart-beats', async () => {
    await started([{ name: 'slow', queue: 'x-timeout', timeoutSeconds: 1, maxAttempts: 2 }]);
    const running = await claimed({ queue: 'x-timeout' });
    expect(running.timeoutSeconds).toBe(1);
    await sleep(600);
    expect(code(await heartbeat(running.id, 1))).toBeUndefined();
    expect(await expireAfter(0.5)).toBeGreaterThanOrEqual(1);
    expect(await task(running.id)).toMatchObject({ status: 'READY', errorType: 'TIMED_OUT', error: 'Timed out: attempt 1 ran longer than timeoutSeconds (1 s)' });
  });

  it('should fail the task and its workflow when a lost attempt was the last one, and record the events', async () => {
    const workflow = await started([{ name: 'last', queue: 'x-last', heartbeatTimeoutSeconds: 1 }, { name: 'after', dependsOn: ['last'], queue: 'x-last' }]);
    const running = await claimed({ queue: 'x-last' });
    const [{ max }] = await server.app.orm.em.fork().execute('select coalesce(max(id), 0)::bigint as max from events');
    expect(await expireAfter(1)).toBeGreaterThanOrEqual(1);
    const after = await getWorkflow(server, token, workflow.id);
    expect(after.status).toBe('FAILED');
    expect(after.tasks.map((t: { status: string }) => t.status)).toEqual(['FAILED', 'CANCELLED']);
    const events: Array<{ kind: string; payload: Record<string, string> }> = await server.app.orm.em.fork().execute('select kind, payload from events where id > ? and workflow_id = ? order by id', [max, uuidOf(workflow.id)]);
    expect(events.map((e) => `${e.kind}:${e.payload.taskStatus ?? e.payload.status}`))
      .toEqual(['TASK_UPDATED:FAILED', 'TASK_UPDATED:CANCELLED', 'UPDATED:FAILED']);
    expect(code(await complete(running.id, 1))).toBe('CONFLICT');
  });

  it('should leave alone what a heartbeat, completion or cancellation finished first', async () => {
    await started([{ name: 'finished-in-time', queue: 'x-race', heartbeatTimeoutSeconds: 1 }]);
    const running = await claimed({ queue: 'x-race' });
    await complete(running.id, 1);
    await expireAfter(1);
    expect(await task(running.id)).toMatchObject({ status: 'SUCCEEDED', errorType: null, error: null });
  });
});

describe('outputs and error types', () => {
  it('should keep what completeTask was given, and failTask\'s errorType', async () => {
    await started([{ name: 'out', queue: 'o-out' }, { name: 'typed', queue: 'o-typed', maxAttempts: 2 }]);
    const out = await claimed({ queue: 'o-out' });
    const output = { rows: 1200, files: ['a.csv', 'b.csv'], nested: { ok: true, ratio: 0.25 }, text: 'Grüße 👋' };
    expect((await complete(out.id, 1, output)).data.completeTask.output).toEqual(output);
    expect((await task(out.id)).output).toEqual(output);
    const typed = await claimed({ queue: 'o-typed' });
    expect((await fail(typed.id, 1, 'HttpError', 'HTTP 503')).data.failTask).toMatchObject({ status: 'READY', errorType: 'HttpError', error: 'HTTP 503' });
  });

  it('should refuse an output past 256 KiB, or one PostgreSQL cannot store, with BAD_USER_INPUT and change nothing', async () => {
    await started([{ name: 'big', queue: 'o-big' }]);
    const running = await claimed({ queue: 'o-big' });
    for (const [output, message] of [
      [{ blob: 'x'.repeat(300 * 1024) }, /^output is \d+ bytes as JSON; at most 262144 are kept$/],
      [{ text: 'nul\u0000byte' }, /NUL character/],
      [JSON.parse('['.repeat(100) + ']'.repeat(100)), /^output is nested more than 64 levels deep$/],
    ] as const) {
      const refused = await complete(running.id, 1, output);
      expect(code(refused)).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0].message).toMatch(message);
    }
    expect(await task(running.id)).toMatchObject({ status: 'RUNNING', output: null });
  });
});

describe('bad input from workers', () => {
  it('should refuse negative, zero and absurd timeouts and priorities, creating nothing', async () => {
    const [{ n: before }] = await server.app.orm.em.fork().execute('select count(*)::int as n from workflows');
    for (const [spec, message] of [
      [{ timeoutSeconds: -5 }, /^tasks\[0\]\.timeoutSeconds must be 1 to 604800$/],
      [{ timeoutSeconds: 0 }, /timeoutSeconds must be 1 to 604800/],
      [{ timeoutSeconds: 604_801 }, /timeoutSeconds must be 1 to 604800/],
      [{ heartbeatTimeoutSeconds: -1 }, /^tasks\[0\]\.heartbeatTimeoutSeconds must be 1 to 86400$/],
      [{ heartbeatTimeoutSeconds: 86_401 }, /heartbeatTimeoutSeconds must be 1 to 86400/],
      [{ priority: 1001 }, /^tasks\[0\]\.priority must be -1000 to 1000$/],
      [{ priority: -1001 }, /priority must be -1000 to 1000/],
    ] as const) {
      const refused = await server.gql('mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: 'bad', tasks: [{ name: 'a', ...spec }] } }, token);
      expect(code(refused), JSON.stringify(spec)).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0].message).toMatch(message);
    }
    // Past 32 bits GraphQL itself refuses the number.
    expect(code(await server.gql('mutation { createWorkflow(input: { name: "bad", tasks: [{ name: "a", timeoutSeconds: 99999999999 }] }) { id } }', {}, token))).toBe('GRAPHQL_VALIDATION_FAILED');
    const [{ n: after }] = await server.app.orm.em.fork().execute('select count(*)::int as n from workflows');
    expect(after).toBe(before);
  });

  it('should refuse claims of no queue, malformed or too many queues, and over-long worker ids', async () => {
    await started([{ name: 'untouched', queue: 'b-claim' }]);
    for (const [args, message] of [
      [{ queues: [] }, /^queues must name at least one queue/],
      [{ queues: ['b-claim', 'no spaces'] }, /^queues\[1\] must be 1 to 100 letters/],
      [{ queues: Array.from({ length: 51 }, (_, i) => `q${i}`) }, /^queues names at most 50 queues$/],
      [{ queue: 'b-claim', workerId: 'w'.repeat(201) }, /^workerId is longer than 200 characters$/],
    ] as const) {
      const refused = await claimAs(args);
      expect(code(refused), JSON.stringify(args).slice(0, 80)).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0].message).toMatch(message);
    }
    // A well-formed queue nobody uses yet is no error: workers may start before their work.
    expect(await claimed({ queues: ['b-nobody-yet'] })).toBeNull();
    expect((await claimed({ queue: 'b-claim' })).name).toBe('untouched');
  });

  it('should answer NOT_FOUND for a task the caller may not change, CONFLICT for a finished one, BAD_USER_INPUT for bad attempts and huge details', async () => {
    await started([{ name: 'mine', queue: 'b-hb' }, { name: 'done', queue: 'b-hb-done' }]);
    const mine = await claimed({ queue: 'b-hb' });
    const stranger = await server.newUser('MEMBER');
    const viewer = await server.newUser('VIEWER');
    expect(code(await heartbeat(mine.id, 1, null, stranger.token))).toBe('NOT_FOUND');
    expect(code(await heartbeat(mine.id, 1, null, viewer.token))).toBe('FORBIDDEN');
    expect(code(await heartbeat(Buffer.from('Task:00000000-0000-4000-8000-000000000000').toString('base64'), 1))).toBe('NOT_FOUND');

    const done = await claimed({ queue: 'b-hb-done' });
    await complete(done.id, 1);
    const finished = await heartbeat(done.id, 1);
    expect(code(finished)).toBe('CONFLICT');
    expect(finished.errors?.[0].message).toMatch(/^Cannot heartbeat task "done": it is SUCCEEDED/);

    for (const attempt of [0, -1]) {
      const refused = await heartbeat(mine.id, attempt);
      expect(code(refused)).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0].message).toBe('attempt must be a whole number from 1');
      expect(code(await complete(mine.id, attempt))).toBe('BAD_USER_INPUT');
    }
    const huge = await heartbeat(mine.id, 1, { log: 'y'.repeat(70 * 1024) });
    expect(code(huge)).toBe('BAD_USER_INPUT');
    expect(huge.errors?.[0].message).toMatch(/^details is \d+ bytes as JSON; at most 65536 are kept$/);
    expect(code(await fail(mine.id, 1, 'E'.repeat(201)))).toBe('BAD_USER_INPUT');
    expect(await task(mine.id)).toMatchObject({ status: 'RUNNING', attempts: 1, heartbeatDetails: null, lastHeartbeatAt: null, errorType: null });
  });
});
