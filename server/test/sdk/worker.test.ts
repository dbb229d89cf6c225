/**
 * The worker SDK (@workflow-factory/sdk, as built) against the real server over real HTTP and
 * WebSocket: it completes and fails attempts for its handler, holds at most `concurrency`,
 * wakes on taskQueueChanged, aborts the handler's signal on cancel and on lease loss, and
 * reconnects after the server restarts.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWorker, type Task, type TaskContext, type Worker, type WorkerOptions } from '@workflow-factory/sdk';
import { startTestServer, type TestServer } from '../support/server.js';
import { createTestDatabase } from '../support/database.js';
import { freePort } from '../support/ports.js';
import { startedWorkflow, type TaskSpec } from '../support/workflows.js';
import { expireDueAttempts } from '../../src/workflows/expiry.js';

let server: TestServer;
let token: string;
const workers: Worker[] = [];

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  token = (await server.newUser('MEMBER')).token;
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop({ graceMs: 0 })));
});
afterAll(() => server?.stop());

const worker = (options: Partial<WorkerOptions> & Pick<WorkerOptions, 'queues' | 'handler'>, on = server, as = token) => {
  const created = createWorker({ url: `${on.url}/graphql`, token: as, handleSignals: false, pollIntervalMs: 60_000, ...options });
  workers.push(created);
  return created;
};
const started = (tasks: TaskSpec[], on = server, as = token) => startedWorkflow(on, as, tasks);
interface TaskRow { id: string; name: string; status: string; attempts: number; output: unknown; runs: Array<{ attempt: number; workerId: string | null; outcome: string | null; error: string | null; errorType: string | null }> }
const tasksOf = async (workflowId: string, on = server, as = token): Promise<TaskRow[]> =>
  (await on.gqlOk('query ($id: ID!) { workflow(id: $id) { tasks { id name status attempts output runs { attempt workerId outcome error errorType } } } }', { id: workflowId }, as)).workflow.tasks;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves when `signal` aborts, with its reason. */
const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));

describe('createWorker', () => {
  it('should complete tasks with the handler output, handing it the outputs of the tasks it depends on, and name itself on each attempt', async () => {
    const seen: Task[] = [];
    const w = worker({
      queues: ['sdk-complete'],
      workerId: 'sdk-test-1',
      handler: (task) => {
        seen.push(task);
        return { from: task.name, got: task.input };
      },
    });
    await w.start();
    const workflow = await started([
      { name: 'first', queue: 'sdk-complete' },
      { name: 'second', queue: 'sdk-complete', dependsOn: ['first'] },
    ]);
    await expect.poll(async () => (await tasksOf(workflow.id)).map((t) => t.status), { timeout: 10_000 }).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const [first, second] = await tasksOf(workflow.id);
    expect(first.output).toEqual({ from: 'first', got: {} });
    expect(second.output).toEqual({ from: 'second', got: { first: { from: 'first', got: {} } } });
    expect(first.runs).toEqual([expect.objectContaining({ attempt: 1, workerId: 'sdk-test-1', outcome: 'SUCCEEDED' })]);
    expect(seen.map((t) => [t.name, t.attempt, t.queue, t.workflow.id])).toEqual([
      ['first', 1, 'sdk-complete', workflow.id],
      ['second', 1, 'sdk-complete', workflow.id],
    ]);
  });

  it('should wake on taskQueueChanged for work that arrives later, with no polling while connected', async () => {
    let claims = 0;
    const w = worker({ queues: ['sdk-wake'], pollIntervalMs: 600_000, handler: () => ({ ok: true }), on: { claimed: () => claims++ } });
    await w.start();
    expect(w.connected).toBe(true);
    await sleep(300);
    const workflow = await started([{ name: 'later', queue: 'sdk-wake' }]);
    await expect.poll(async () => (await tasksOf(workflow.id))[0].status, { timeout: 3_000, interval: 50 }).toBe('SUCCEEDED');
    expect(claims).toBe(1);
  });

  it('should fail an attempt with the thrown error message and its name as errorType, then run the retry', async () => {
    const w = worker({
      queues: ['sdk-fail'],
      handler: (task) => {
        if (task.attempt === 1) throw Object.assign(new Error('upstream said 503'), { name: 'UpstreamError' });
        return 'second time lucky';
      },
    });
    await w.start();
    const workflow = await started([{ name: 'flaky', queue: 'sdk-fail', maxAttempts: 2 }]);
    await expect.poll(async () => (await tasksOf(workflow.id))[0].status, { timeout: 10_000 }).toBe('SUCCEEDED');
    const [flaky] = await tasksOf(workflow.id);
    expect(flaky.output).toBe('second time lucky');
    expect(flaky.runs).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'FAILED', error: 'upstream said 503', errorType: 'UpstreamError' }),
      expect.objectContaining({ attempt: 2, outcome: 'SUCCEEDED' }),
    ]);
  });

  it('should hold at most `concurrency` tasks at once, and claim the next as soon as one finishes', async () => {
    let running = 0;
    let most = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const w = worker({
      queues: ['sdk-concurrency'],
      concurrency: 3,
      handler: async () => {
        most = Math.max(most, ++running);
        await gate;
        await sleep(20);
        running--;
      },
    });
    await w.start();
    const workflow = await started(Array.from({ length: 10 }, (_, i) => ({ name: `t${i}`, queue: 'sdk-concurrency' })));
    await expect.poll(() => running, { timeout: 10_000 }).toBe(3);
    // Time to over-claim, were it going to: seven more are READY.
    await sleep(500);
    expect(w.held).toBe(3);
    open();
    await expect.poll(async () => (await tasksOf(workflow.id)).filter((t) => t.status === 'SUCCEEDED').length, { timeout: 15_000 }).toBe(10);
    expect(most).toBe(3);
  });

  it('should abort the handler’s signal when its workflow is cancelled, and report nothing for it', async () => {
    let signal: AbortSignal | undefined;
    let aborts = 0;
    const w = worker({
      queues: ['sdk-cancel'],
      handler: async (_task, context: TaskContext) => {
        signal = context.signal;
        await aborted(context.signal);
        throw new Error('stopped as asked');
      },
      on: { aborted: () => aborts++ },
    });
    await w.start();
    // taskCancelled tells it at once; heartbeats every second (a third of 3 s) would within one
    const workflow = await started([{ name: 'long', queue: 'sdk-cancel', heartbeatTimeoutSeconds: 3 }]);
    await expect.poll(() => signal, { timeout: 5_000 }).toBeDefined();
    await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { status } }', { id: workflow.id }, token);
    const reason = await Promise.race([aborted(signal!), sleep(3_000).then(() => 'not aborted')]);
    expect(reason).toMatchObject({ name: 'TaskAbortedError', reason: 'cancelled' });
    await sleep(200);
    const [long] = await tasksOf(workflow.id);
    expect(long.status).toBe('CANCELLED');
    expect(long.runs).toEqual([expect.objectContaining({ outcome: 'CANCELLED', error: null })]);
    expect(aborts).toBe(1);
    expect(w.held).toBe(0);
  });

  it('should abort the handler’s signal when a heartbeat answers CONFLICT (the lease was lost), and not report the old attempt', async () => {
    const signals: AbortSignal[] = [];
    const w = worker({
      queues: ['sdk-lease'],
      handler: async (task, context) => {
        signals.push(context.signal);
        if (task.attempt === 1) await aborted(context.signal);
        return `attempt ${task.attempt}`;
      },
    });
    await w.start();
    const workflow = await started([{ name: 'taken-over', queue: 'sdk-lease', heartbeatTimeoutSeconds: 3, maxAttempts: 2 }]);
    await expect.poll(() => signals.length, { timeout: 5_000 }).toBe(1);
    const [held] = await tasksOf(workflow.id);
    // Someone else ends attempt 1 (as the server does for a lapsed lease): the attempt is no longer current.
    await server.gqlOk('mutation ($id: ID!) { failTask(id: $id, attempt: 1, error: "presumed dead", errorType: "LOST") { status } }', { id: held.id }, token);
    const reason = await Promise.race([aborted(signals[0]), sleep(3_000).then(() => 'not aborted')]);
    expect(reason).toMatchObject({ name: 'TaskAbortedError', reason: 'lease lost' });
    await expect.poll(async () => (await tasksOf(workflow.id))[0].status, { timeout: 5_000 }).toBe('SUCCEEDED');
    const [done] = await tasksOf(workflow.id);
    expect(done.output).toBe('attempt 2');
    expect(done.runs.map((run) => run.outcome)).toEqual(['FAILED', 'SUCCEEDED']);
  });

  it('should finish what it holds on stop() within the grace period, and claim nothing new', async () => {
    const claimed: string[] = [];
    const w = worker({
      queues: ['sdk-stop'],
      concurrency: 2,
      handler: async (task) => {
        claimed.push(task.name);
        await sleep(400);
        return 'finished';
      },
    });
    await w.start();
    const workflow = await started(['a', 'b', 'c', 'd'].map((name) => ({ name, queue: 'sdk-stop' })));
    await expect.poll(() => claimed.length, { timeout: 5_000 }).toBe(2);
    const stoppedAt = Date.now();
    await w.stop({ graceMs: 5_000 });
    expect(Date.now() - stoppedAt).toBeLessThan(2_000);
    const statuses = (await tasksOf(workflow.id)).map((t) => t.status);
    expect(statuses.filter((s) => s === 'SUCCEEDED')).toHaveLength(2);
    expect(statuses.filter((s) => s === 'READY')).toHaveLength(2);
    await sleep(300);
    expect(claimed).toHaveLength(2);
  });

  it('should abort what it still holds once the grace period is over', async () => {
    let signal: AbortSignal | undefined;
    const w = worker({
      queues: ['sdk-grace'],
      handler: async (_task, context) => {
        signal = context.signal;
        await aborted(context.signal);
      },
    });
    await w.start();
    const workflow = await started([{ name: 'stubborn', queue: 'sdk-grace' }]);
    await expect.poll(() => signal, { timeout: 5_000 }).toBeDefined();
    const stoppedAt = Date.now();
    await w.stop({ graceMs: 300 });
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(290);
    expect(signal!.reason).toMatchObject({ reason: 'stopping' });
    // Left to its lease: the server returns it as LOST once that lapses.
    expect((await tasksOf(workflow.id))[0].status).toBe('RUNNING');
  });

  it('should refuse bad options at once', () => {
    expect(() => createWorker({ url: `${server.url}/graphql`, token, queues: [], concurrency: 0, handler: () => null })).toThrow(/concurrency/);
    expect(() => createWorker({ url: 'ftp://example/graphql', token, queues: [], handler: () => null })).toThrow(/http/);
  });

  it('should reject `done` and stop when the server refuses the claim itself: a VIEWER, a malformed queue', async () => {
    const viewer = await server.newUser('VIEWER');
    const asViewer = worker({ queues: ['sdk-viewer'], handler: () => null }, server, viewer.token);
    const badQueue = worker({ queues: ['not a queue!'], handler: () => null });
    await Promise.all([asViewer.start(), badQueue.start()]);
    await expect(asViewer.done).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(badQueue.done).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'queues[0]' });
  });

  it('should reject `done` and stop when the server refuses the token', async () => {
    const w = createWorker({ url: `${server.url}/graphql`, token: 'not-a-token', queues: ['sdk-refused'], handleSignals: false, handler: () => null });
    workers.push(w);
    await w.start();
    await expect(w.done).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('createWorker across a server restart', () => {
  it('should reconnect with backoff and claim what arrived while the server was down', async () => {
    const database = await createTestDatabase();
    const port = String(await freePort());
    let first: TestServer | null = await startTestServer({ PORT: port, RATE_LIMIT_PER_MINUTE: '0' }, database);
    let second: TestServer | null = null;
    try {
      const as = (await first.newUser('MEMBER')).token;
      let connects = 0;
      let disconnects = 0;
      const w = worker({ queues: ['sdk-restart'], reconnectMinMs: 100, reconnectMaxMs: 500, handler: () => 'after restart', on: { connected: () => connects++, disconnected: () => disconnects++ } }, first, as);
      await w.start();
      expect(connects).toBe(1);
      await first.stop();
      first = null;
      await expect.poll(() => disconnects, { timeout: 5_000 }).toBe(1);
      expect(w.connected).toBe(false);
      second = await startTestServer({ PORT: port, RATE_LIMIT_PER_MINUTE: '0' }, database);
      const workflow = await started([{ name: 'while-away', queue: 'sdk-restart' }], second, as);
      await expect.poll(async () => (await tasksOf(workflow.id, second!, as))[0].status, { timeout: 10_000 }).toBe('SUCCEEDED');
      expect(connects).toBe(2);
      expect(w.connected).toBe(true);
    } finally {
      await Promise.all(workers.splice(0).map((w) => w.stop({ graceMs: 0 })));
      await first?.stop();
      await second?.stop();
      await database.drop();
    }
  });
});

const FIXTURE = fileURLToPath(new URL('../support/sdk-worker.mjs', import.meta.url));
const spawnWorker = (env: Record<string, string>) => {
  const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, URL: server.url, TOKEN: token, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, at)));
      buffered = buffered.slice(at + 1);
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const count = (key: string) => lines.filter((line) => key in line).length;
  return { child, lines, exited, count, stderr: () => stderr };
};

describe('a worker process on SIGTERM', () => {
  it('should finish the tasks it holds within the grace period, claim nothing new, then end by the signal', async () => {
    const workflow = await started(['a', 'b', 'c', 'd'].map((name) => ({ name, queue: 'sdk-sigterm' })));
    const proc = spawnWorker({ QUEUE: 'sdk-sigterm', CONCURRENCY: '2', WORK_MS: '1500', GRACE_MS: '10000' });
    try {
      await expect.poll(() => proc.count('claimed'), { timeout: 10_000 }).toBe(2);
      const signalledAt = Date.now();
      proc.child.kill('SIGTERM');
      const exit = await proc.exited;
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
      expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
      expect(proc.count('completed')).toBe(2);
      expect(proc.count('claimed')).toBe(2);
      expect(proc.lines.find((line) => 'sigterm' in line)).toEqual({ sigterm: 2 });
      const statuses = (await tasksOf(workflow.id)).map((t: { status: string }) => t.status).sort();
      expect(statuses).toEqual(['READY', 'READY', 'SUCCEEDED', 'SUCCEEDED']);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('should abort what is left once the grace period is over, and leave it to its lease', async () => {
    const workflow = await started([{ name: 'endless', queue: 'sdk-sigterm-grace' }]);
    const proc = spawnWorker({ QUEUE: 'sdk-sigterm-grace', WORK_MS: '60000', GRACE_MS: '300' });
    try {
      await expect.poll(() => proc.count('claimed'), { timeout: 10_000 }).toBe(1);
      const signalledAt = Date.now();
      proc.child.kill('SIGTERM');
      await proc.exited;
      expect(Date.now() - signalledAt).toBeLessThan(3_000);
      expect(proc.lines.find((line) => 'aborted' in line)).toMatchObject({ reason: 'stopping' });
      expect((await tasksOf(workflow.id))[0].status).toBe('RUNNING');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});

describe('a worker process told of a cancellation', () => {
  it('should abort the handler at once, over the WebSocket, long before its next heartbeat, and leave other workers’ tasks alone', async () => {
    // Heartbeats every 100 s (a third of 300 s): only taskCancelled can tell the worker in time.
    const cancelled = await started([{ name: 'to-cancel', queue: 'sdk-cancel-now', heartbeatTimeoutSeconds: 300 }]);
    const kept = await started([{ name: 'to-keep', queue: 'sdk-cancel-other', heartbeatTimeoutSeconds: 300 }]);
    const proc = spawnWorker({ QUEUE: 'sdk-cancel-now', WORK_MS: '60000', GRACE_MS: '0' });
    const other = spawnWorker({ QUEUE: 'sdk-cancel-other', WORK_MS: '60000', GRACE_MS: '0' });
    try {
      await expect.poll(() => proc.count('claimed') + other.count('claimed'), { timeout: 10_000 }).toBe(2);
      const cancelledAt = Date.now();
      await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { status } }', { id: cancelled.id }, token);
      await expect.poll(() => proc.count('aborted'), { timeout: 5_000, interval: 20 }).toBe(1);
      const latencyMs = Date.now() - cancelledAt;
      console.log(`cancellation reached the worker process ${latencyMs} ms after cancelWorkflow was sent`);
      expect(latencyMs).toBeLessThan(3_000);
      expect(proc.lines.find((line) => 'aborted' in line)).toEqual({ aborted: (await tasksOf(cancelled.id))[0].id, reason: 'cancelled' });
      await sleep(300);
      expect(other.count('aborted')).toBe(0);
      expect((await tasksOf(kept.id))[0].status).toBe('RUNNING');
      expect((await tasksOf(cancelled.id))[0]).toMatchObject({ status: 'CANCELLED', runs: [{ outcome: 'CANCELLED' }] });
    } finally {
      proc.child.kill('SIGKILL');
      other.child.kill('SIGKILL');
      await Promise.all([proc.exited, other.exited]);
    }
  });

  it('should abort the handler within a second of the server ending its attempt, LOST or TIMED_OUT, long before its next heartbeat', async () => {
    // Heartbeats every 100 s: only taskCancelled can tell the worker in time.
    const workflow = await started([
      { name: 'lease-lapses', queue: 'sdk-server-ended', heartbeatTimeoutSeconds: 300 },
      { name: 'runs-too-long', queue: 'sdk-server-ended', heartbeatTimeoutSeconds: 300, timeoutSeconds: 1 },
    ]);
    const proc = spawnWorker({ QUEUE: 'sdk-server-ended', CONCURRENCY: '2', WORK_MS: '60000', GRACE_MS: '0' });
    try {
      await expect.poll(() => proc.count('claimed'), { timeout: 10_000 }).toBe(2);
      const byName = Object.fromEntries((await tasksOf(workflow.id)).map((t) => [t.name, t]));
      const dbId = (id: string) => Buffer.from(id, 'base64url').toString().split(':')[1];
      // As if the worker had stopped heart-beating; the other one is past its 1 s timeout by now.
      await server.app.orm.em.fork().execute(`update tasks set lease_expires_at = now() - interval '1 second' where id = ?`, [dbId(byName['lease-lapses'].id)]);
      await sleep(1_100);
      // The expiry leader's look, run here at a moment the test knows.
      expect(await expireDueAttempts(server.app.services)).toBe(2);
      const endedAt = Date.now();
      await expect.poll(() => proc.count('aborted'), { timeout: 5_000, interval: 20 }).toBe(2);
      const latencyMs = Date.now() - endedAt;
      console.log(`the server's end of two attempts reached the worker process ${latencyMs} ms after the expiry committed`);
      expect(latencyMs).toBeLessThan(1_000);
      const aborted = proc.lines.filter((line) => 'aborted' in line);
      expect(aborted.map((line) => line.reason)).toEqual(['lease lost', 'lease lost']);
      expect(new Set(aborted.map((line) => line.aborted))).toEqual(new Set([byName['lease-lapses'].id, byName['runs-too-long'].id]));
      await sleep(300);
      expect(proc.count('completed')).toBe(0);
      const after = Object.fromEntries((await tasksOf(workflow.id)).map((t) => [t.name, t]));
      expect(after['lease-lapses'].runs).toMatchObject([{ outcome: 'LOST' }]);
      expect(after['runs-too-long'].runs).toMatchObject([{ outcome: 'TIMED_OUT' }]);
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  });
});
