/** Retry policies (backoff, non-retryable errors) and the record of every attempt (Task.runs), over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireDueAttempts } from '../../src/workflows/expiry.js';
import { backoffSeconds } from '../../src/workflows/lifecycle.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { getWorkflow, startedWorkflow, type TaskSpec } from '../support/workflows.js';

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = (await server.newUser('MEMBER')).token;
});
afterAll(() => server?.stop());

const TASK = 'id name status attempts error errorType nextAttemptAt retry { initialIntervalSeconds backoffCoefficient maximumIntervalSeconds nonRetryableErrors } runs { attempt workerId startedAt finishedAt outcome error errorType }';
type Retry = { initialIntervalSeconds?: number; backoffCoefficient?: number; maximumIntervalSeconds?: number; nonRetryableErrors?: string[] };
type Spec = TaskSpec & { retry?: Retry; heartbeatTimeoutSeconds?: number };

const started = (tasks: Spec[]) => startedWorkflow(server, token, tasks as TaskSpec[]);
const claim = async (queue: string, workerId = 'w') =>
  (await server.gqlOk(`mutation ($q: String, $w: String) { claimTask(queue: $q, workerId: $w) { ${TASK} } }`, { q: queue, w: workerId }, token)).claimTask;
const fail = async (id: string, attempt: number, errorType?: string, error = 'boom') =>
  (await server.gqlOk(`mutation ($id: ID!, $a: Int, $t: String, $e: String!) { failTask(id: $id, attempt: $a, errorType: $t, error: $e) { ${TASK} } }`, { id, a: attempt, t: errorType, e: error }, token)).failTask;
const complete = async (id: string, attempt: number) =>
  (await server.gqlOk(`mutation ($id: ID!, $a: Int) { completeTask(id: $id, attempt: $a) { ${TASK} } }`, { id, a: attempt }, token)).completeTask;
const task = async (id: string) => (await server.gqlOk(`query ($id: ID!) { task(id: $id) { ${TASK} } }`, { id }, token)).task;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const secondsFromNow = (at: string) => (new Date(at).getTime() - Date.now()) / 1000;

describe('backoffSeconds', () => {
  it('should grow by the coefficient from the initial interval up to the maximum, and be 0 without a policy', () => {
    const policy = { initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 10, nonRetryableErrors: [] };
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffSeconds(policy, attempt))).toEqual([1, 2, 4, 8, 10, 10]);
    expect(backoffSeconds(null, 3)).toBe(0);
  });
});

describe('retry policies', () => {
  it('should fill in the defaults, and leave tasks without a policy retried at once', async () => {
    const workflow = await started([{ name: 'defaults', queue: 'r-defaults', retry: {} }, { name: 'none', queue: 'r-none', maxAttempts: 2 }]);
    expect(workflow.tasks[0].id).toBeTruthy();
    expect((await task(workflow.tasks[0].id)).retry).toEqual({ initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 300, nonRetryableErrors: [] });
    const none = await claim('r-none');
    expect(none.retry).toBeNull();
    expect(await fail(none.id, 1)).toMatchObject({ status: 'READY', nextAttemptAt: null });
    expect((await claim('r-none')).attempts).toBe(2);
  });

  it('should back off exponentially up to the maximum, with nextAttemptAt visible and the claim waiting for it', async () => {
    await started([{ name: 'flaky', queue: 'r-backoff', maxAttempts: 4, retry: { initialIntervalSeconds: 1, backoffCoefficient: 3, maximumIntervalSeconds: 1.5 } }]);
    const first = await claim('r-backoff');
    const failed = await fail(first.id, 1, 'HttpError');
    expect(failed.status).toBe('READY');
    expect(secondsFromNow(failed.nextAttemptAt)).toBeGreaterThan(0.7);
    expect(secondsFromNow(failed.nextAttemptAt)).toBeLessThanOrEqual(1.05);
    expect(await claim('r-backoff')).toBeNull();
    await sleep(secondsFromNow(failed.nextAttemptAt) * 1000 + 50);
    const second = await claim('r-backoff');
    expect(second).toMatchObject({ id: first.id, attempts: 2, nextAttemptAt: null });
    // min(1 × 3, 1.5)
    const again = await fail(second.id, 2);
    expect(secondsFromNow(again.nextAttemptAt)).toBeGreaterThan(1.2);
    expect(secondsFromNow(again.nextAttemptAt)).toBeLessThanOrEqual(1.55);
    expect(await claim('r-backoff')).toBeNull();
  });

  it('should fail at once on a non-retryable error type, attempts left or not, failing the workflow', async () => {
    const workflow = await started([{ name: 'strict', queue: 'r-nonretry', maxAttempts: 5, retry: { nonRetryableErrors: ['ValidationError', ' ValidationError'] } }]);
    const running = await claim('r-nonretry');
    expect(running.retry.nonRetryableErrors).toEqual(['ValidationError']);
    expect(await fail(running.id, 1, 'ValidationError')).toMatchObject({ status: 'FAILED', attempts: 1, errorType: 'ValidationError' });
    expect((await getWorkflow(server, token, workflow.id)).status).toBe('FAILED');
  });

  it('should apply the policy to lost attempts too: LOST can be non-retryable', async () => {
    await started([{ name: 'no-second-chance', queue: 'r-lost', maxAttempts: 3, heartbeatTimeoutSeconds: 1, retry: { nonRetryableErrors: ['LOST'] } }]);
    const running = await claim('r-lost');
    await sleep(1_150);
    await expireDueAttempts(server.app.services);
    expect(await task(running.id)).toMatchObject({ status: 'FAILED', errorType: 'LOST' });
  });

  it('should refuse bad policies with BAD_USER_INPUT, creating nothing', async () => {
    for (const [retry, message] of [
      [{ backoffCoefficient: 0.5 }, /^tasks\[0\]\.retry\.backoffCoefficient must be 1 to 100$/],
      [{ initialIntervalSeconds: 0 }, /^tasks\[0\]\.retry\.initialIntervalSeconds must be 0\.1 to 86400$/],
      [{ initialIntervalSeconds: -3 }, /initialIntervalSeconds must be/],
      [{ initialIntervalSeconds: 10, maximumIntervalSeconds: 5 }, /^tasks\[0\]\.retry\.maximumIntervalSeconds must be 10 to 604800$/],
      [{ maximumIntervalSeconds: 1e9 }, /maximumIntervalSeconds must be/],
      [{ nonRetryableErrors: Array.from({ length: 51 }, (_, i) => `E${i}`) }, /nonRetryableErrors holds at most 50 error types$/],
      [{ nonRetryableErrors: ['  '] }, /nonRetryableErrors\[0\] must not be empty$/],
    ] as const) {
      const refused = await server.gql('mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', { input: { name: 'bad retry', tasks: [{ name: 'a', retry }] } }, token);
      expect(refused.errors?.[0].extensions?.code, JSON.stringify(retry).slice(0, 60)).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0].message).toMatch(message);
    }
    const [{ n }] = await server.app.orm.em.fork().execute(`select count(*)::int as n from workflows where name = 'bad retry'`);
    expect(n).toBe(0);
  });
});

describe('Task.runs', () => {
  it('should keep every attempt with its worker, times, outcome and error, oldest first, across a retryTask', async () => {
    await started([{ name: 'history', queue: 'h-runs', maxAttempts: 2 }]);
    const first = await claim('h-runs', 'w-1');
    expect(first.runs).toEqual([expect.objectContaining({ attempt: 1, workerId: 'w-1', finishedAt: null, outcome: null })]);
    await fail(first.id, 1, 'HttpError', 'HTTP 503');
    await claim('h-runs', 'w-2');
    await fail(first.id, 2, 'HttpError', 'HTTP 502');
    await server.gqlOk('mutation ($id: ID!) { retryTask(id: $id) { id } }', { id: first.id }, token);
    await claim('h-runs', 'w-3');
    const done = await complete(first.id, 3);
    expect(done.runs.map((r: Record<string, unknown>) => [r.attempt, r.workerId, r.outcome, r.error, r.errorType])).toEqual([
      [1, 'w-1', 'FAILED', 'HTTP 503', 'HttpError'],
      [2, 'w-2', 'FAILED', 'HTTP 502', 'HttpError'],
      [3, 'w-3', 'SUCCEEDED', null, null],
    ]);
    for (const run of done.runs) expect(new Date(run.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(run.startedAt).getTime());
  });

  it('should record LOST, TIMED_OUT and CANCELLED outcomes', async () => {
    const workflow = await started([
      { name: 'lost', queue: 'h-outcomes-lost', heartbeatTimeoutSeconds: 1, maxAttempts: 2 },
      { name: 'timed', queue: 'h-outcomes-timed', maxAttempts: 2, timeoutSeconds: 1 } as Spec,
    ]);
    const lost = await claim('h-outcomes-lost');
    const timed = await claim('h-outcomes-timed');
    await sleep(1_150);
    await expireDueAttempts(server.app.services);
    await claim('h-outcomes-lost');
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: workflow.id }, token);
    expect((await task(lost.id)).runs.map((r: { outcome: string }) => r.outcome)).toEqual(['LOST', 'CANCELLED']);
    expect((await task(timed.id)).runs.map((r: { outcome: string }) => r.outcome)).toEqual(['TIMED_OUT']);
  });

  it('should load the runs of a whole list in a fixed number of statements', async () => {
    const statements = async (count: number) => {
      const workflow = await started(Array.from({ length: count }, (_, i) => ({ name: `t${i}`, queue: `h-count-${count}` })));
      for (let i = 0; i < count; i++) await claim(`h-count-${count}`);
      const query = 'query ($id: ID!) { workflow(id: $id) { tasks { name runs { attempt outcome } } } }';
      const counted = await countStatements(server.app, () => server.gqlOk(query, { id: workflow.id }, token));
      expect((await getWorkflow(server, token, workflow.id)).tasks).toHaveLength(count);
      return counted.count;
    };
    expect(await statements(20)).toBe(await statements(2));
  });
});

describe('retryTask and leases', () => {
  it('should go on numbering attempts, so a worker holding one from before the retry has lost its lease', async () => {
    await started([{ name: 'zombie', queue: 'h-zombie', maxAttempts: 2 }]);
    const first = await claim('h-zombie', 'w-presumed-dead');
    await fail(first.id, 1, 'HttpError');
    await claim('h-zombie', 'w-2');
    await fail(first.id, 2, 'HttpError');
    const retried = (await server.gqlOk('mutation ($id: ID!) { retryTask(id: $id) { status attempts maxAttempts } }', { id: first.id }, token)).retryTask;
    // a fresh set of two attempts: numbers 3 and 4
    expect(retried).toEqual({ status: 'READY', attempts: 2, maxAttempts: 4 });
    await claim('h-zombie', 'w-3');
    // The first worker wakes up and reports its attempt 1, then 2: neither is the running one.
    for (const attempt of [1, 2]) {
      const late = await server.gql('mutation ($id: ID!, $attempt: Int!) { completeTask(id: $id, attempt: $attempt) { id } }', { id: first.id, attempt }, token);
      expect(late.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^Lease lost/), extensions: { code: 'CONFLICT' } });
    }
    const running = await task(first.id);
    expect(running).toMatchObject({ status: 'RUNNING', attempts: 3 });
    expect((await complete(first.id, 3)).status).toBe('SUCCEEDED');
  });
});
