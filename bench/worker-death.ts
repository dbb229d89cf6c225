/**
 * Time from a worker's death to its task running elsewhere (issue 14). Per trial: a worker
 * process (bench/doomed-worker.ts) claims a task with heartbeatTimeoutSeconds = H and heart-beats
 * it; it is SIGKILLed at a random moment 1–2 heartbeats in; a second worker (this process)
 * claims the queue every POLL_MS until the task comes back. Reported, from the server's own
 * record: how long past the lease's deadline (Task.leaseExpiresAt after the kill) the task was
 * running again, and how long after the kill. TRIALS trials, WAVE at a time (each its own queue),
 * against the real server (compiled, TASK_EXPIRY_INTERVAL_MS as shipped: 1 s) on a fresh
 * database.
 *
 *   npm run bench:worker-death        (TRIALS=30 WAVE=10 HEARTBEAT_SECONDS=3 POLL_MS=25)
 */
import { randomBytes } from 'node:crypto';
import { fixed, machine, percentile } from './measure.js';
import { forkBenchScript, postGraphQL as gql, startRealServer, type Target } from './processes.js';
import { databaseOnServer, dropDatabase, recreateDatabase } from './seed.js';

const TRIALS = Number(process.env.TRIALS ?? 30);
const WAVE = Number(process.env.WAVE ?? 10);
const HEARTBEAT_SECONDS = Number(process.env.HEARTBEAT_SECONDS ?? 3);
const POLL_MS = Number(process.env.POLL_MS ?? 25);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Trial {
  /** ms from the lease's deadline to the task running again */
  pastDeadline: number;
  /** ms from the kill to the task running again */
  afterKill: number;
}

async function trial(target: Target, token: string, queue: string): Promise<Trial> {
  const created = await gql(target, 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', {
    input: { name: `death ${queue}`, tasks: [{ name: 'work', queue, heartbeatTimeoutSeconds: HEARTBEAT_SECONDS, maxAttempts: 2 }] },
  });
  await gql(target, 'mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: created.createWorkflow.id });
  const worker = forkBenchScript('bench/doomed-worker.ts');
  worker.child.send({ url: target.url, token, queue });
  const taskId = await new Promise<string>((resolve, reject) => {
    worker.child.once('message', (m: { claimed: string }) => resolve(m.claimed));
    worker.child.once('exit', (code) => reject(new Error(`the worker exited with ${code} before it claimed`)));
  });
  await sleep(((1 + Math.random()) * HEARTBEAT_SECONDS * 1000) / 3 + 50);
  worker.child.kill('SIGKILL');
  const killedAt = Date.now();
  await new Promise((resolve) => (worker.child.exitCode !== null || worker.child.signalCode !== null ? resolve(null) : worker.child.once('exit', resolve)));
  const { task } = await gql(target, 'query ($id: ID!) { task(id: $id) { leaseExpiresAt } }', { id: taskId });
  const deadline = new Date(task.leaseExpiresAt).getTime();
  for (;;) {
    const { claimTask } = await gql(target, 'mutation ($q: String) { claimTask(queue: $q, workerId: "survivor") { id } }', { q: queue });
    if (claimTask) {
      const runningAt = Date.now();
      if (claimTask.id !== taskId) throw new Error('claimed another task');
      return { pastDeadline: runningAt - deadline, afterKill: runningAt - killedAt };
    }
    await sleep(POLL_MS);
  }
}

async function main(): Promise<void> {
  const databaseUrl = databaseOnServer(`wf_bench_death_${randomBytes(3).toString('hex')}`);
  await recreateDatabase(databaseUrl);
  const target = await startRealServer({ databaseUrl });
  try {
    const token = target.headers.authorization.replace(/^Bearer /, '');
    const trials: Trial[] = [];
    for (let done = 0; done < TRIALS; done += WAVE) {
      const wave = Array.from({ length: Math.min(WAVE, TRIALS - done) }, (_, i) => trial(target, token, `death-${done + i}`));
      trials.push(...(await Promise.all(wave)));
    }
    const past = trials.map((t) => t.pastDeadline).sort((a, b) => a - b);
    const kill = trials.map((t) => t.afterKill).sort((a, b) => a - b);
    console.log(machine());
    console.log(`${TRIALS} workers killed (${WAVE} at a time), heartbeatTimeoutSeconds ${HEARTBEAT_SECONDS}, survivor polling every ${POLL_MS} ms`);
    console.log(`running again past the lease deadline: p50 ${fixed(percentile(past, 50), 0)} ms, p99 ${fixed(percentile(past, 99), 0)} ms, max ${fixed(past.at(-1)!, 0)} ms (target: within 2,000 ms)`);
    console.log(`running again after the kill:          p50 ${fixed(percentile(kill, 50), 0)} ms, p99 ${fixed(percentile(kill, 99), 0)} ms`);
  } finally {
    await target.stop();
    await dropDatabase(databaseUrl);
  }
}

await main();
