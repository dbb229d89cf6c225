/**
 * The demo's simulated worker, on the worker SDK like any other integration: it signs in as the
 * demo account, claims that account's READY tasks over the API (woken by taskQueueChanged),
 * "works" on each for a few seconds while the SDK heart-beats its lease, then completes it or
 * (now and then) fails it; cancelled tasks abort their work. Around it, the simulation starts
 * another workflow when everything is done and prunes old ones, so a first run's dashboard moves
 * within seconds. What a stopped or killed worker held is returned by the server when its lease
 * lapses.
 */
import { createWorker } from '@workflow-factory/sdk';
import type { AppServices } from '../app/context.js';
import { recordMetrics } from '../metrics/ingest.js';
import { AppError } from '../core/errors.js';
import type { Viewer } from '../core/viewer.js';
import { enumArray } from '../db/sql.js';
import { createApiToken, revokeApiToken } from '../users/api-tokens.js';
import { hashToken } from '../users/passwords.js';
import { FINISHED_WORKFLOW_STATUSES } from '../workflows/entity.js';
import { deleteWorkflow } from '../workflows/service.js';
import { createDemoWorkflow, demoContext, demoViewer, seedDemoWorkflows } from './seed.js';

export interface DemoOptions {
  /** how often the simulation looks at what the worker is doing; default 1000 ms */
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
  /** Stops claiming and drops what it holds (those tasks run again once their lease lapses). */
  stop(): Promise<void>;
}

const ERRORS = ['connection reset by peer', 'timed out after 30 s', 'HTTP 503 from upstream', 'disk quota exceeded', 'exit code 137 (out of memory)'];
const TOKEN_NAME = 'demo worker';
/** A demo token unused this long belongs to a server that was killed rather than stopped. */
const STALE_TOKEN_HOURS = 1;

/** An API token of the demo account for this start; tokens earlier starts left behind are revoked. */
async function demoToken(services: AppServices, viewer: Viewer): Promise<{ token: string; id: string }> {
  const context = demoContext(services, viewer);
  const stale = await services.orm.em.fork().execute(
    `select id from api_tokens where user_id = ? and name = ? and revoked_at is null
        and coalesce(last_used_at, created_at) < now() - make_interval(hours => ?)`,
    [viewer.id, TOKEN_NAME, STALE_TOKEN_HOURS],
  );
  for (const { id } of stale) await revokeApiToken(context, id);
  const token = await createApiToken(context, TOKEN_NAME);
  const [{ id }] = await services.orm.em.fork().execute('select id from api_tokens where token_hash = ?', [hashToken(token)]);
  return { token, id };
}

/** `url`: where this server answers (the worker reaches it as any other client would). */
export async function startDemo(services: AppServices, url: string, options: DemoOptions = {}): Promise<DemoWorker> {
  const { tickMs = 1000, taskMs = [1500, 6000], failureRate = 0.15, concurrency = 3, idleMs = 5000, keepWorkflows = 25, metricsMs = 5000, random = Math.random } = options;
  const { logger } = services;
  const em = services.orm.em.fork();
  const viewer = await demoViewer(em);
  const [{ count }] = await em.execute('select count(*)::int as count from workflows where owner_id = ?', [viewer.id]);
  if (count === 0) await seedDemoWorkflows(services, viewer);
  const credential = await demoToken(services, viewer);

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

  const worker = createWorker({
    url: `${url}/graphql`,
    token: credential.token,
    queues: [],
    concurrency,
    workerId: `demo-worker:${services.config.instanceId}`,
    // The server stops it (and so drains it) itself.
    handleSignals: false,
    handler: async (task, { signal }) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, workTime());
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (signal.aborted) return null;
      finished += 1;
      if (random() < failureRate) {
        failed += 1;
        throw Object.assign(new Error(ERRORS[Math.floor(random() * ERRORS.length)]), { name: 'DemoError' });
      }
      return { demo: true, attempt: task.attempt };
    },
    on: { error: (error) => logger.debug({ err: error }, 'demo worker: retrying after an error') },
  });
  await worker.start();

  // What an operator would chart about a worker: its backlog, its load and how often it fails.
  const pushMetrics = async (now: number) => {
    const [{ ready }] = await services.orm.em.fork().execute(
      `select count(*)::int as ready from tasks t join workflows w on w.id = t.workflow_id where w.owner_id = ? and t.status = 'READY'`,
      [viewer.id],
    );
    const samples = [
      { name: 'queue_depth', value: ready },
      { name: 'tasks_running', value: worker.held },
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
    if (now - metricsAt >= metricsMs) await pushMetrics(now);
    if (worker.held > 0) idleSince = now;
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
      await worker.stop({ graceMs: 0 });
      await revokeApiToken(context(), credential.id).catch(ignoreLostTask);
    },
  };
}
