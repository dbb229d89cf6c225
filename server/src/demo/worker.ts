/**
 * The demo's simulated worker: claims READY tasks of the demo account's workflows, "works" on
 * each for a few seconds (heart-beating its lease, and dropping a task whose workflow was
 * cancelled), then completes it or (now and then) fails it, naming its attempt, and starts
 * another workflow when everything is done, so a first run's dashboard moves within seconds.
 * It goes through the same services as the API, so every change is an event subscribers see.
 * What a stopped or killed worker held is returned by the server when its lease lapses.
 */
import type { AppServices } from '../app/context.js';
import { recordMetrics } from '../metrics/ingest.js';
import { AppError } from '../core/errors.js';
import { enumArray } from '../db/sql.js';
import { claimTask, completeTask, failTask, heartbeatTask } from '../workflows/task-service.js';
import { TaskStatus } from '../workflows/task-entity.js';
import { FINISHED_WORKFLOW_STATUSES } from '../workflows/entity.js';
import { deleteWorkflow } from '../workflows/service.js';
import { createDemoWorkflow, demoContext, demoViewer, seedDemoWorkflows } from './seed.js';

export interface DemoOptions {
  /** how often the worker looks for work; default 1000 ms */
  tickMs?: number;
  /** how long a task "runs", picked at random in this range; default 1.5–6 s */
  taskMs?: [number, number];
  /** share of attempts that fail; default 0.15 */
  failureRate?: number;
  /** tasks worked on at once; default 3 */
  concurrency?: number;
  /** with nothing to do for this long, a new workflow starts; default 5000 ms */
  idleMs?: number;
  /** finished demo workflows kept; older ones are deleted; default 25 */
  keepWorkflows?: number;
  /** how often the worker pushes its own metrics (service `demo-worker`); default 5000 ms */
  metricsMs?: number;
  random?: () => number;
}

export interface DemoWorker {
  /** Stops looking for work and waits for the step in progress; tasks it holds run again once their lease lapses. */
  stop(): Promise<void>;
}

const ERRORS = ['connection reset by peer', 'timed out after 30 s', 'HTTP 503 from upstream', 'disk quota exceeded', 'exit code 137 (out of memory)'];

export async function startDemo(services: AppServices, options: DemoOptions = {}): Promise<DemoWorker> {
  const { tickMs = 1000, taskMs = [1500, 6000], failureRate = 0.15, concurrency = 3, idleMs = 5000, keepWorkflows = 25, metricsMs = 5000, random = Math.random } = options;
  const { logger } = services;
  const em = services.orm.em.fork();
  const viewer = await demoViewer(em);
  const [{ count }] = await em.execute('select count(*)::int as count from workflows where owner_id = ?', [viewer.id]);
  if (count === 0) await seedDemoWorkflows(services, viewer);

  /** task id → its attempt, when its "work" is done and when to heartbeat next */
  const working = new Map<string, { attempt: number; due: number; heartbeatAt: number; heartbeatMs: number }>();
  const workerId = `demo-worker:${services.config.instanceId}`;
  let nextTemplate = count;
  let idleSince = Date.now();
  let metricsAt = 0;
  let finished = 0;
  let failed = 0;

  const context = () => demoContext(services, viewer);
  const workTime = () => taskMs[0] + random() * (taskMs[1] - taskMs[0]);
  // A user may cancel or delete a demo workflow at any time: its tasks then refuse the change.
  const ignoreLostTask = (error: unknown) => {
    if (error instanceof AppError && ['CONFLICT', 'NOT_FOUND'].includes(String(error.extensions.code))) return;
    throw error;
  };

  const finish = async (taskId: string, attempt: number) => {
    finished += 1;
    if (random() < failureRate) {
      failed += 1;
      const error = ERRORS[Math.floor(random() * ERRORS.length)];
      await failTask(context(), taskId, error, { attempt, errorType: 'DemoError' }).catch(ignoreLostTask);
    } else await completeTask(context(), taskId, { attempt, output: { demo: true, attempt } }).catch(ignoreLostTask);
  };

  /** Heart-beats a task; false when the worker must let go of it (cancelled, lease lost, deleted). */
  const stillHeld = async (taskId: string, attempt: number): Promise<boolean> => {
    try {
      return (await heartbeatTask(context(), taskId, attempt, { demo: true })).status === TaskStatus.RUNNING;
    } catch (error) {
      ignoreLostTask(error);
      return false;
    }
  };

  // What an operator would chart about a worker: its backlog, its load and how often it fails.
  const pushMetrics = async (now: number) => {
    const [{ ready }] = await services.orm.em.fork().execute(
      `select count(*)::int as ready from tasks t join workflows w on w.id = t.workflow_id where w.owner_id = ? and t.status = 'READY'`,
      [viewer.id],
    );
    const samples = [
      { name: 'queue_depth', value: ready },
      { name: 'tasks_running', value: working.size },
      { name: 'task_failure_percent', value: finished ? (100 * failed) / finished : 0 },
    ];
    await recordMetrics(context(), samples.map((s) => ({ ...s, service: 'demo-worker', time: new Date(now) })));
    metricsAt = now;
    finished = 0;
    failed = 0;
  };

  const prune = async () => {
    const old = await services.orm.em.fork().execute(
      `select id from workflows where owner_id = ? and status = any(?::text[])
        order by created_at desc offset ?`,
      [viewer.id, enumArray(FINISHED_WORKFLOW_STATUSES), keepWorkflows],
    );
    for (const { id } of old) await deleteWorkflow(context(), id).catch(ignoreLostTask);
  };

  const step = async () => {
    const now = Date.now();
    for (const [taskId, held] of working) {
      if (held.due <= now) {
        working.delete(taskId);
        await finish(taskId, held.attempt);
      } else if (held.heartbeatAt <= now) {
        if (await stillHeld(taskId, held.attempt)) held.heartbeatAt = now + held.heartbeatMs;
        else working.delete(taskId);
      }
    }
    while (working.size < concurrency) {
      const task = await claimTask(context(), { workerId });
      if (!task) break;
      const heartbeatMs = (task.heartbeatTimeoutSeconds * 1000) / 3;
      working.set(task.id, { attempt: task.attempts, due: now + workTime(), heartbeatAt: now + heartbeatMs, heartbeatMs });
    }
    if (now - metricsAt >= metricsMs) await pushMetrics(now);
    if (working.size > 0) idleSince = now;
    else if (now - idleSince >= idleMs) {
      await createDemoWorkflow(services, viewer, nextTemplate++);
      await prune();
      idleSince = now;
    }
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const loop = () => {
    current = step()
      .catch((error) => logger.warn({ err: error }, 'demo worker step failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, tickMs);
      });
  };
  loop();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
