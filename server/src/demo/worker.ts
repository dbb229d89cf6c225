/**
 * The demo's simulated worker: claims READY tasks of the demo account's workflows, "works" on
 * each for a few seconds, then completes it or (now and then) fails it, and starts another
 * workflow when everything is done, so a first run's dashboard moves within seconds. It goes
 * through the same services as the API, so every change is an event subscribers see.
 */
import type { AppServices } from '../app/context.js';
import { recordMetrics } from '../metrics/ingest.js';
import { AppError } from '../core/errors.js';
import { enumArray } from '../db/sql.js';
import { claimTask, completeTask, failTask } from '../workflows/task-service.js';
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
  /** Stops looking for work and waits for the step in progress; tasks it holds stay RUNNING. */
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

  /** task id → when its "work" is done */
  const working = new Map<string, number>();
  // Tasks a previous run left RUNNING finish soon instead of hanging forever.
  const orphans = await em.execute(
    `select t.id from tasks t join workflows w on w.id = t.workflow_id where w.owner_id = ? and t.status = 'RUNNING'`,
    [viewer.id],
  );
  for (const { id } of orphans) working.set(id, Date.now() + taskMs[0]);
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

  const finish = async (taskId: string) => {
    finished += 1;
    if (random() < failureRate) {
      failed += 1;
      await failTask(context(), taskId, ERRORS[Math.floor(random() * ERRORS.length)]).catch(ignoreLostTask);
    } else await completeTask(context(), taskId).catch(ignoreLostTask);
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
    for (const [taskId, due] of working) {
      if (due > now) continue;
      working.delete(taskId);
      await finish(taskId);
    }
    while (working.size < concurrency) {
      const task = await claimTask(context(), null);
      if (!task) break;
      working.set(task.id, now + workTime());
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
