/**
 * Work that survives its workers, with real processes: worker processes (test/support/
 * task-worker.mjs) and two server replicas on one database and Redis, killed with SIGKILL
 * mid-task. The leader among the replicas returns the dead worker's attempt once its lease
 * lapses, another worker runs the task again, and it ends SUCCEEDED.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connect, type LiveClient } from '../support/live.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { uuidOf } from '../support/replica-pair.js';
import { waitFor } from '../support/wait.js';

const WORKER_SCRIPT = fileURLToPath(new URL('../support/task-worker.mjs', import.meta.url));
/** workflows/expiry.ts */
const EXPIRY_LOCK = 7_316_044;
const LEASE_SECONDS = 2;

interface WorkerProcess {
  child: ChildProcess;
  lines: Array<Record<string, any>>;
  /** resolves with the first line `match` accepts */
  line(match: (line: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  kill(): Promise<void>;
}

const workers: WorkerProcess[] = [];

function startWorker(server: ServerProcess, queue: string, workerId: string, workMs?: number): WorkerProcess {
  const child = spawn(process.execPath, [WORKER_SCRIPT], {
    env: { ...process.env, URL: server.url, TOKEN: server.adminToken, QUEUE: queue, WORKER_ID: workerId, HEARTBEAT_MS: '500', ...(workMs === undefined ? {} : { WORK_MS: String(workMs) }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: WorkerProcess['lines'] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk) => {
    buffered += chunk;
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    for (const text of complete) if (text.trim()) lines.push(JSON.parse(text));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: WorkerProcess = {
    child,
    lines,
    line: (match, timeoutMs = 20_000) => waitFor(`worker ${workerId}: a line`, async () => lines.find(match), timeoutMs, 20),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  workers.push(worker);
  return worker;
}

let database: TestDatabase;
let direct: pg.Client;
let leader: ServerProcess;
let follower: ServerProcess;
const clients: LiveClient[] = [];

const gql = async (server: ServerProcess, query: string, variables?: Record<string, unknown>) => {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: any; errors?: unknown[] };
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data;
};

/** A started workflow of one task on its own queue, with a short lease and attempts to spare. */
async function oneTask(server: ServerProcess, queue: string): Promise<{ workflowId: string; taskId: string }> {
  const created = await gql(server, `mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id tasks { id } } }`, {
    input: { name: queue, tasks: [{ name: 'work', queue, maxAttempts: 3, heartbeatTimeoutSeconds: LEASE_SECONDS }] },
  });
  await gql(server, 'mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: created.createWorkflow.id });
  return { workflowId: created.createWorkflow.id, taskId: created.createWorkflow.tasks[0].id };
}

const taskRow = async (taskId: string) =>
  (await direct.query('select status, attempts, worker_id, error, error_type, ready_at, output from tasks where id = $1', [Buffer.from(taskId, 'base64').toString().replace(/^Task:/, '')])).rows[0];

/** The backend pid holding the expiry lock, or null. */
const expiryLockHolder = async (): Promise<number | null> =>
  (await direct.query(`select pid from pg_locks where locktype = 'advisory' and objid = $1 and granted and database = (select oid from pg_database where datname = current_database())`, [EXPIRY_LOCK])).rows[0]?.pid ?? null;

/** Kills `dead` mid-task and checks that the task runs again through `survivor` and succeeds, returned soon after the lease lapsed. */
async function killAndRecover(claimVia: ServerProcess, survivor: ServerProcess, queue: string, alsoKill: () => Promise<void> = async () => undefined) {
  const { taskId } = await oneTask(claimVia, queue);
  const dead = startWorker(claimVia, queue, `${queue}-doomed`);
  await dead.line((l) => l.claimed === taskId);
  // Killed between heartbeats, holding a lease that now runs out.
  const beat = await dead.line((l) => l.heartbeat === taskId);
  await Promise.all([dead.kill(), alsoKill()]);
  const lastLease = new Date([...dead.lines].reverse().find((l) => l.leaseExpiresAt)!.leaseExpiresAt).getTime();
  expect(lastLease).toBeGreaterThanOrEqual(new Date(beat.leaseExpiresAt).getTime());

  const rescuer = startWorker(survivor, queue, `${queue}-rescuer`, 300);
  await rescuer.line((l) => l.completed === taskId, 30_000);
  const row = await taskRow(taskId);
  expect(row).toMatchObject({ status: 'SUCCEEDED', attempts: 2, worker_id: `${queue}-rescuer`, error: null, error_type: null, output: { by: `${queue}-rescuer` } });
  // ready_at: when the lost attempt went back to READY.
  const returnedAfterMs = new Date(row.ready_at).getTime() - lastLease;
  expect(returnedAfterMs).toBeGreaterThanOrEqual(0);
  expect(returnedAfterMs).toBeLessThan(3_000);
  return { taskId, returnedAfterMs };
}

describeRedis('lost attempts with real processes', () => {
  beforeAll(async () => {
    database = await createTestDatabase();
    direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
    const env = redisEnv();
    leader = await startServerProcess(env, { database });
    // Started second, once the first leads: which one leads is known.
    await waitFor('the first replica to lead the expiry', expiryLockHolder);
    follower = await startServerProcess(env, { database });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await Promise.all(workers.map((worker) => worker.kill()));
    await follower?.stop();
    await leader?.stop();
    await direct?.end();
    await database?.drop();
  });

  it('should run a task again elsewhere when its worker is killed with SIGKILL, and it ends SUCCEEDED', async () => {
    const { returnedAfterMs } = await killAndRecover(leader, leader, 'one-replica');
    console.log(`one replica: returned ${returnedAfterMs} ms after the lease lapsed`);
  }, 60_000);

  it('should return the attempt from the leader when the worker died on the other replica, publishing the events to that replica\'s subscribers', async () => {
    const subscriber = connect(follower.url, { token: follower.adminToken });
    clients.push(subscriber);
    const events = subscriber.subscribe('subscription { workflowEvents { kind task { id } } }');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { taskId } = await killAndRecover(follower, follower, 'two-replicas');
    // An event's `task` is the task as it is when the event is sent: count them, and read what each said from the log.
    const received = () => events.values.filter((v) => v.workflowEvents.kind === 'TASK_UPDATED' && v.workflowEvents.task?.id === taskId).length;
    const uuid = Buffer.from(taskId, 'base64').toString().replace(/^Task:/, '');
    const logged = async () => (await direct.query(`select payload->>'taskStatus' as status from events where task_id = $1 order by id`, [uuid])).rows.map((row) => row.status);
    // READY (started) → RUNNING (claimed) → READY (returned by the leader) → RUNNING (claimed again) → SUCCEEDED.
    expect(await logged()).toEqual(['READY', 'RUNNING', 'READY', 'RUNNING', 'SUCCEEDED']);
    await waitFor('every event of the task on the follower', async () => received() === 5);
    const runs = (await direct.query('select attempt, worker_id, outcome, error_type from task_runs where task_id = $1 order by id', [uuid])).rows;
    expect(runs).toEqual([
      { attempt: 1, worker_id: 'two-replicas-doomed', outcome: 'LOST', error_type: 'LOST' },
      { attempt: 2, worker_id: 'two-replicas-rescuer', outcome: 'SUCCEEDED', error_type: null },
    ]);
  }, 60_000);

  it('should return the attempt when the leader itself is killed (SIGKILL) with the worker: the other replica takes over', async () => {
    const leaderPid = await expiryLockHolder();
    expect(leaderPid).not.toBeNull();
    const { returnedAfterMs } = await killAndRecover(leader, follower, 'leader-killed', async () => {
      leader.child.kill('SIGKILL');
      await leader.exited;
    });
    console.log(`leader killed: returned ${returnedAfterMs} ms after the lease lapsed`);
    const now = await expiryLockHolder();
    expect(now).not.toBeNull();
    expect(now).not.toBe(leaderPid);
  }, 60_000);
});
